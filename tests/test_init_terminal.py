"""`shipyard init` on a terminal: each answer is checked as it is typed and asked again when it is wrong.

Driven through a real pseudo-terminal, as a person at a keyboard would: the prompts show the expected form,
the region defaults to the AWS configuration's, and a bad answer costs one retry, not the other answers. The workloads beside the web service are asked last,
one a line, each checked with those before it.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from shipyard.config import load_config


class Terminal:
    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "shipyard", *args], stdin=slave, stdout=slave, stderr=slave,
                                        env=env, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.seen[-2000:]}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the process ended
                    break
        assert text in self.seen, self.seen[-2000:]
        shown, self.seen = self.seen, self.seen[self.seen.index(text) + len(text):]
        return shown

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\r").encode())

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


def test_init_asks_checks_each_answer_and_asks_again(tmp_path):
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_CONFIG_FILE": str(tmp_path / "none"), "COLUMNS": "200"}
    env.pop("AWS_REGION", None)
    terminal = Terminal("init", str(tmp_path / "repo"), "--no-lock", env=env)
    terminal.expect("application name (lowercase letters, digits and hyphens, e.g. webapp)")
    terminal.type("My App")
    terminal.expect("'My App' is not valid; use lowercase letters, digits and hyphens, starting with a letter; try again")
    terminal.type("shop")
    terminal.expect("GitHub repository (owner/repo, e.g. acme/webapp)")
    terminal.type("myapp")
    terminal.expect("'myapp' is not a GitHub repository; use owner/repo; try again")
    terminal.type("acme/shop")
    terminal.expect("owner's numeric id")
    terminal.type("x12")
    terminal.expect("try again")
    terminal.type("4242001")
    terminal.expect("repository's numeric id")
    terminal.type("917305218")
    shown = terminal.expect("AWS region (e.g. eu-west-1)")
    terminal.expect("[eu-west-1]")  # the default from the AWS configuration
    assert "try again" not in shown
    terminal.type("mars-1")
    terminal.expect("'mars-1' is not an AWS region with ECS Fargate")
    terminal.type("")  # takes the default
    terminal.expect("staging AWS account id (12 digits)")
    terminal.type("123")
    terminal.expect("'123' is not an AWS account id; use 12 digits; try again")
    terminal.type("111111111111")
    terminal.expect("production AWS account id (12 digits)")
    terminal.type("222222222222")
    terminal.expect("another workload (NAME:KIND, a kind of web, backend, worker, job; empty when done)")
    terminal.type("orders:queue")
    terminal.expect("orders:queue: is not NAME:KIND")
    terminal.expect("try again")
    terminal.type("orders:worker")
    terminal.expect("another workload")
    terminal.type("orders:job")
    terminal.expect("names 'orders' twice")
    terminal.type("nightly:job")
    terminal.expect("another workload")
    terminal.type("")
    terminal.expect("wrote")
    assert terminal.close() == 0
    config = load_config(tmp_path / "repo" / "shipyard.toml")
    assert (config.app.name, config.app.repository, config.app.region) == ("shop", "acme/shop", "eu-west-1")
    assert config.app.subject("environment:staging") == "repo:acme@4242001/shop@917305218:environment:staging"
    assert [e.account for e in config.environments.values()] == ["111111111111", "222222222222"]
    assert {name: config.kind_of(name) for name in config.workloads} == {"orders": "worker", "nightly": "job"}
    assert (tmp_path / "repo" / "orders" / "Dockerfile").exists()
    assert (tmp_path / "repo" / ".github" / "workflows" / "pipeline.yml").exists()
