"""What one poll of a stack wait costs on the embedded AWS: DescribeStackEvents of a full page (100 events) and
DescribeStacks, client and server in this process (CPU and wall per call, the median of several rounds).

    python benchmarks/stack_event_poll.py [--calls 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from shipyard.app.target import embedded, embedded_aws
from shipyard.aws import Aws

REGION = "eu-west-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with embedded_aws() as server:
        aws = Aws(embedded(server.endpoint), "111111111111")
        topics = {f"Topic{n}": {"Type": "AWS::SNS::Topic"} for n in range(60)}  # 122 events: a page is full
        aws.call("cloudformation", "CreateStack", REGION, StackName="eventful", TemplateBody=json.dumps({"Resources": topics}))
        while aws.call("cloudformation", "DescribeStacks", REGION, StackName="eventful")["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
            time.sleep(0.1)
        for operation in ("DescribeStackEvents", "DescribeStacks"):
            cpu, wall = [], []
            for _ in range(args.rounds):
                started_cpu, started = time.process_time(), time.perf_counter()
                for _ in range(args.calls):
                    aws.call("cloudformation", operation, REGION, StackName="eventful")
                cpu.append((time.process_time() - started_cpu) / args.calls * 1000)
                wall.append((time.perf_counter() - started) / args.calls * 1000)
            print(f"{operation}: {statistics.median(cpu):.1f} ms CPU, {statistics.median(wall):.1f} ms wall a call "
                  f"(median of {args.rounds} rounds of {args.calls})")


if __name__ == "__main__":
    main()
