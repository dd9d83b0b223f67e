from shipyard.checks.rules.ecs_plain_secrets import RULE

from .helpers import violations


def _task(environment: list[dict]) -> dict:
    return {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [
        {"Name": "web", "Environment": environment, "Secrets": [{"Name": "DB_PASSWORD", "ValueFrom": "arn:aws:secretsmanager:x"}]}]}}}


def test_plain_settings_pass():
    assert violations(RULE, _task([{"Name": "LOG_LEVEL", "Value": "info"}])) == []


def test_secret_names_and_values_fail():
    found = violations(RULE, _task([{"Name": "DB_PASSWORD", "Value": "hunter2"},
                                    {"Name": "UPSTREAM", "Value": "AKIAABCDEFGHIJKLMNOP"}]))
    assert len(found) == 2
