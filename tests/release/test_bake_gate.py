"""BakeGate on the embedded AWS's compressed clock: however far AWS's bake is compressed, the gate gets the real
seconds three answers need, on a machine where each answer is slow."""

from __future__ import annotations

from types import SimpleNamespace

from shipyard.aws.ecs import ServiceDeployment
from shipyard.aws.session import Target
from shipyard.localaws.core import pace
from shipyard.localaws.server import Controls
from shipyard.release.attempt import Attempt, ReleaseOptions
from shipyard.release.bake_gate import BAKE_MARGIN, BakeGate
from tests.release.conftest import Health


class _Ecs:
    """ECS with one blue/green deployment in its bake: a one-minute bake time, as the blueprint sets."""

    def __init__(self) -> None:
        self.rolled_back: list[str] = []

    def newest_deployment_in_progress(self, cluster, service):
        return ServiceDeployment("arn:aws:ecs:eu-west-1:1:service-deployment/c/s/d1", "BAKE_TIME")

    def service_of(self, cluster, name):
        return SimpleNamespace(bake_minutes=1)

    def roll_back_deployment(self, arn):
        self.rolled_back.append(arn)


def test_the_gate_has_the_real_seconds_of_three_slow_answers_inside_a_compressed_bake(health_server, example_config):
    Health.delay = 0.9  # three answers take 2.7 s: more than a one-minute bake compressed 20 times, less its margin
    ecs = _Ecs()
    aws = SimpleNamespace(target=Target(endpoint="http://127.0.0.1:9", emulator=Controls("http://127.0.0.1:9")),
                          ecs=lambda region: ecs)
    env = example_config.environment("staging")
    gate = BakeGate(aws, env, health_server, ReleaseOptions(health_timeout=30, health_interval=2.0), Attempt("sha256:1"),
                    judge_without_url=False)
    gate("UPDATE_IN_PROGRESS")
    assert gate.result is not None and gate.result.passed, gate.result
    assert ecs.rolled_back == []
    # The emulator's bake is as long as the gate was told it is, its margin for StopServiceDeployment included.
    assert gate.result.timeout + pace.local(BAKE_MARGIN) <= pace.local_bake(60.0)
