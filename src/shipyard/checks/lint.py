"""cfn-lint over synthesized templates: each template once, results kept by content, spread over the cores.

cfn-lint validates every resource against the CloudFormation schemas, about
half a second per template; that is most of `shipyard check`. A result is kept
by the template's content and region (checks/cache.py), and templates not seen
before are linted in worker processes while the next environment synthesizes.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from shipyard.checks.cache import ResultCache, code_version, digest

# (rule id, resource logical id or "template", message)
LintMatch = tuple[str, str, str]

_rules: Any = None


def lint_template(text: str, region: str) -> list[LintMatch]:
    """cfn-lint's findings on one template; informational matches dropped."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    config = ConfigMixIn(regions=[region])
    if _rules is None:
        # Loading the rule set costs about 0.3 s; a process does it once. (cfnlint.api.lint rebuilds it
        # on every call unless given a RulesCollection, which Runner no longer returns.)
        _warm()
    template, errors = decode_str(text)
    found = errors or (run_template_by_data(template, config, _rules) if template is not None else [])
    matches = []
    for match in found:
        rule_id = match.rule.id
        if rule_id.startswith("I"):
            continue
        path = list(getattr(match, "path", None) or getattr(match, "path_string", "").split("/"))
        resource = str(path[1]) if len(path) > 1 and path[0] == "Resources" else "template"
        matches.append((rule_id, resource, match.message))
    return matches


def _warm() -> None:
    """Build the rule set while the first environment synthesizes."""
    global _rules
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    if _rules is None:
        _rules = Runner(ConfigMixIn(regions=["us-east-1"])).rules


class Linter:
    """submit() a template, read the Future's result later; a context manager that owns its workers."""

    def __init__(self, *, workers: int | None = None) -> None:
        self.cache = ResultCache("cfn-lint")
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self._pool: Executor | None = None

    def __enter__(self) -> Linter:
        return self

    def start(self) -> None:
        """Start the workers now: their imports overlap the synth that makes the first templates."""
        if self._pool is None and self.workers > 1:
            # A fork server imports cfn-lint once and forks workers from itself: as fast as fork, without
            # forking this process's threads (the live display) or its Node.js pipes.
            context = get_context("forkserver")
            context.set_forkserver_preload(["cfnlint.runner", "cfnlint.decode.decode", "shipyard.checks.lint"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm)
            for _ in range(self.workers):
                self._pool.submit(_warm)

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _key(self, text: str, region: str) -> str:
        return digest(code_version(), region, text)

    def submit(self, text: str, region: str) -> Future[list[LintMatch]]:
        key = self._key(text, region)
        cached = self.cache.get(key)
        future: Future[list[LintMatch]]
        if cached is not None:
            future = Future()
            future.set_result([tuple(m) for m in cached])
            return future
        self.start()
        if self._pool is None:
            future = Future()
            future.set_result(lint_template(text, region))
        else:
            future = self._pool.submit(lint_template, text, region)
        future.add_done_callback(lambda done: done.exception() is None and self.cache.put(key, done.result()))
        return future
