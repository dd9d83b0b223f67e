import socket
import subprocess
import sys

import pytest

from shipyard.errors import UsageError
from shipyard.localaws.server import EmbeddedAws

pytestmark = pytest.mark.embedded  # starts and stops embedded AWS servers


def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=rf"127.0.0.1:{port} is already in use"):
            EmbeddedAws(port)


# In a process of its own: the test process already runs the embedded AWS the other tests share.
STARTS_AND_STOPS = """
import urllib.request
from shipyard.errors import ShipyardError
from shipyard.localaws.server import EmbeddedAws


with EmbeddedAws() as aws:
    assert aws.environment()["AWS_ENDPOINT_URL"] == aws.endpoint
    with urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=5) as response:
        assert response.status == 200
    import boto3
    ecs = boto3.client("ecs", region_name="eu-west-1", endpoint_url=aws.endpoint, aws_access_key_id="a", aws_secret_access_key="b")
    for _ in range(2):
        try:
            ecs.describe_service_revisions(serviceRevisionArns=["x"])
        except ecs.exceptions.ClientError as error:
            print("unimplemented:", error.response["Error"]["Code"])
    try:
        EmbeddedAws().start()
    except ShipyardError as refused:
        print("second:", refused.one_line())
try:
    urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=2)
except OSError:
    print("stopped")
with EmbeddedAws():
    print("started again")
"""


def test_server_answers_and_stops_and_a_process_runs_one_at_a_time():
    result = subprocess.run([sys.executable, "-c", STARTS_AND_STOPS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["unimplemented: UnknownOperationException"] * 2, lines
    assert lines[2].startswith("second: embedded AWS: another embedded AWS already runs in this process"), lines
    assert lines[3:] == ["stopped", "started again"]
    # An operation the embedded AWS lacks: one line when it first comes, the list when the server stops, no traceback.
    assert result.stderr.count("embedded AWS: ecs.DescribeServiceRevisions is not implemented here") == 1, result.stderr
    assert "embedded AWS: asked for operations it does not implement: ecs.DescribeServiceRevisions (2x)" in result.stderr
    assert "Traceback" not in result.stderr and "NotImplementedError" not in result.stderr, result.stderr


def test_an_operation_the_embedded_aws_lacks_is_an_unknown_action_in_each_protocol(local_aws):
    """AWS answers an action it does not know with a 400 and an error code: InvalidAction for the query protocol,
    UnknownOperationException for the JSON ones (no HTML 500 page, which the SDKs retry and cannot parse)."""
    from shipyard.app.target import embedded
    from shipyard.aws import Aws, AwsError
    from shipyard.localaws.core import unimplemented

    aws = Aws(embedded(local_aws.endpoint), "444444444446")
    with pytest.raises(AwsError) as query:
        aws.call("cloudformation", "DetectStackSetDrift", "eu-west-1", StackSetName="any")
    assert query.value.code == "InvalidAction"
    assert "cloudformation.DetectStackSetDrift is not implemented by the embedded AWS" in query.value.what
    with pytest.raises(AwsError) as json_protocol:
        aws.call("logs", "GetLogAnomalyDetector", "eu-west-1", anomalyDetectorArn="arn:aws:logs:eu-west-1:444444444446:anomaly-detector:x")
    assert json_protocol.value.code == "UnknownOperationException"
    assert {"cloudformation.DetectStackSetDrift", "logs.GetLogAnomalyDetector"} <= set(unimplemented.reached())
