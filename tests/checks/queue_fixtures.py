"""Queues as the blueprint writes them, for the queue rules' tests."""

TLS_ONLY = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def queues(**work) -> dict:
    return {"Dead": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
            "Work": {"Type": "AWS::SQS::Queue", "Properties": {
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dead", "Arn"]}, "maxReceiveCount": 5}, **work}}}


def policy(*statements) -> dict:
    return {"P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Work"}],
                                                                  "PolicyDocument": {"Statement": list(statements)}}}}


