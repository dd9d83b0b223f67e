"""Releases judged on the real service through the local edge: a code change changes what /api/info answers; code
that crashes, answers its health check with 500 or never listens fails the release, is rolled back, and the URL
keeps answering from the last known good code the whole time (blue/green: blue serves until green is healthy)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from shipyard.deploy.state import edge_url
from shipyard.release.release import ReleaseFailed, ReleaseOptions, release
from tests.release.conftest import build_image

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


class Poller:
    """Asks /api/info through the edge every 50 ms and keeps every answer."""

    def __init__(self, url: str) -> None:
        self.url, self.answers, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                with urllib.request.urlopen(self.url + "/api/info", timeout=5) as response:
                    self.answers.append((response.status, json.load(response)["image_digest"]))
            except urllib.error.HTTPError as exc:
                self.answers.append((exc.code, None))
            except OSError as exc:
                self.answers.append((0, repr(exc)))

    def stop(self) -> list[tuple[int, str | None]]:
        self._stop.set()
        self._thread.join()
        return self.answers


def _options(**kwargs) -> ReleaseOptions:
    return ReleaseOptions(rollout_timeout=kwargs.pop("rollout_timeout", 40), health_timeout=2, health_successes=2,
                          health_interval=0.1, **kwargs)


def _info(url: str) -> dict:
    with urllib.request.urlopen(url + "/api/info", timeout=5) as response:
        return json.load(response)


def test_a_code_change_is_what_the_url_answers_and_bad_code_never_serves(deployed, assemblies, example_config):
    staging, aws = assemblies["staging"], deployed["staging"]
    env, path = staging.environment, example_config.service.health_check_path
    base = build_image(aws, env, "real001")
    assert release(aws, staging, base.reference, _options(), health_path=path).attempt.verdict == "released"
    url = edge_url(aws, env)
    assert _info(url) == {"version": "dev", "environment": "staging", "image_digest": base.digest}

    changed = build_image(aws, env, "real002", "changed")
    assert changed.digest != base.digest
    poller = Poller(url)
    assert release(aws, staging, changed.reference, _options(), health_path=path).attempt.verdict == "released"
    during = poller.stop()
    assert _info(url) == {"version": "2.0", "environment": "staging", "image_digest": changed.digest}
    assert {status for status, _ in during} == {200}, [a for a in during if a[0] != 200][:5]
    assert {digest for _, digest in during} <= {base.digest, changed.digest}

    for tag, variant in (("real003", "crash"), ("real004", "unhealthy"), ("real005", "stuck")):
        bad = build_image(aws, env, tag, variant)
        poller = Poller(url)
        with pytest.raises(ReleaseFailed) as caught:
            release(aws, staging, bad.reference, _options(), health_path=path)
        during = poller.stop()
        outcome = caught.value.outcome
        assert outcome.attempt.verdict == "failed" and outcome.rolled_back_to == changed.digest, (variant, outcome.attempt.reasons)
        assert outcome.rollback.verdict == "released", variant
        assert during and {status for status, _ in during} == {200}, (variant, [a for a in during if a[0] != 200][:5])
        assert {digest for _, digest in during} == {changed.digest}, variant  # the bad code never took traffic
        assert _info(url)["image_digest"] == changed.digest


def test_explain_names_the_exit_code_and_the_line_that_caused_it(deployed, assemblies, example_config):
    from shipyard.diagnose.explain import explain

    production, aws = assemblies["production"], deployed["production"]
    env, path = production.environment, example_config.service.health_check_path
    good = build_image(aws, env, "expl001")
    release(aws, production, good.reference, _options(), health_path=path)
    crash = build_image(aws, env, "expl002", "crash")
    with pytest.raises(ReleaseFailed):
        release(aws, production, crash.reference, _options(), health_path=path)
    time.sleep(0.5)
    stopped = [link.detail for link in explain(aws, production, None) if link.detail.startswith("task ")]
    assert any("(web exit 1)" in detail and "its log says: KeyError: 'DATABASE_URL'" in detail for detail in stopped), stopped


def test_the_web_acls_rate_rule_blocks_a_client_above_its_limit(deployed, assemblies):
    """Production's web ACL, its limit lowered through the WAF API: request 101 from one address is blocked by WAF."""
    production, aws = assemblies["production"], deployed["production"]
    env = production.environment
    summary = next(a for a in aws.call("wafv2", "ListWebACLs", "us-east-1", Scope="CLOUDFRONT")["WebACLs"] if a["Name"] == env.names.web_acl)
    found = aws.call("wafv2", "GetWebACL", "us-east-1", Name=summary["Name"], Scope="CLOUDFRONT", Id=summary["Id"])
    acl = found["WebACL"]
    rules = [{**r, "Statement": {"RateBasedStatement": {**r["Statement"]["RateBasedStatement"], "Limit": 100}}}
             if "RateBasedStatement" in r["Statement"] else r for r in acl["Rules"]]
    aws.call("wafv2", "UpdateWebACL", "us-east-1", Name=acl["Name"], Scope="CLOUDFRONT", Id=acl["Id"], DefaultAction=acl["DefaultAction"],
             Rules=rules, VisibilityConfig=acl["VisibilityConfig"], LockToken=found["LockToken"])
    url = edge_url(aws, env)
    answers = []
    try:
        time.sleep(1.1)  # the edge reads its distribution's configuration at most once a second
        for _ in range(101):
            try:
                with urllib.request.urlopen(url + "/index.html", timeout=5) as response:
                    answers.append((response.status, response.headers["X-Shipyard-Served-By"]))
            except urllib.error.HTTPError as exc:
                answers.append((exc.code, exc.headers["X-Shipyard-Served-By"]))
    finally:  # the configured limit again, so this address is not blocked for the tests after this one
        token = aws.call("wafv2", "GetWebACL", "us-east-1", Name=acl["Name"], Scope="CLOUDFRONT", Id=acl["Id"])["LockToken"]
        aws.call("wafv2", "UpdateWebACL", "us-east-1", Name=acl["Name"], Scope="CLOUDFRONT", Id=acl["Id"],
                 DefaultAction=acl["DefaultAction"], Rules=acl["Rules"], VisibilityConfig=acl["VisibilityConfig"], LockToken=token)
        time.sleep(1.1)
    # The release gates' earlier requests from this address count too: the block comes at request 101 at the latest.
    first_block = answers.index((403, "waf"))
    assert set(answers[:first_block]) == {(200, "s3")} and set(answers[first_block:]) == {(403, "waf")}
