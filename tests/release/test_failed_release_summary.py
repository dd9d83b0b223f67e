"""A failed release's one line says once what happened and what runs now, never three things that contradict."""

from shipyard.release import history
from shipyard.release.attempt import Attempt, Outcome, ReleaseOptions, Step
from shipyard.release.release import _without_rollback

DIGEST = "sha256:" + "a" * 64
FAILED_GATE = "health URL https://example/healthz did not answer 200 3 times in a row within 45s (last answer: 503)"


def _failed(moved_back: bool = False) -> Attempt:
    return Attempt(DIGEST, reasons=[FAILED_GATE], step=Step.STACK_UPDATE, moved_back=moved_back)


def _summary(attempt: Attempt, options: ReleaseOptions, lkg) -> str:
    outcome = Outcome("staging", attempt, no_rollback=_without_rollback(attempt, options, lkg))
    return outcome.summary()


def test_a_failed_first_release_says_the_new_image_runs_and_why_there_is_no_rollback():
    summary = _summary(_failed(), ReleaseOptions(), None)
    assert summary.endswith(f"no automatic rollback (no earlier release to return to): {DIGEST[:19]} runs")
    assert "or --no-rollback" not in summary


def test_a_first_release_whose_traffic_ecs_moved_back_says_nothing_serves():
    summary = _summary(_failed(moved_back=True), ReleaseOptions(), None)
    assert "ECS moved the traffic back to the previous revision; nothing was released before it" in summary


def test_no_rollback_by_choice_names_the_flag():
    lkg = history.ReleaseRecord(digest="sha256:" + "b" * 64, time="", verdict="released", kind="release")
    assert _summary(_failed(), ReleaseOptions(auto_rollback=False), lkg).endswith(f"(--no-rollback): {DIGEST[:19]} runs")
