"""The shop's orders worker: receives order ids from its queue, totals each order and marks it done in the database.

A message is deleted only after its order is written, so a task that dies mid-order leaves the message to come back
after the queue's visibility timeout; one that fails every delivery goes to the dead-letter queue (shipyard.toml:
max_receive_count). Configuration is what shipyard's task definition sets: SHIPYARD_QUEUE_URL (this worker's own
queue), the database as libpq's PG* variables, and the task role's credentials, which the SDK finds on its own.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import boto3
import psycopg

stopping = False
busy = False  # an order is in hand


def stop(*_: object) -> None:
    """SIGTERM (ECS stopping the task): waiting on the queue, leave at once; with an order in hand, finish it first."""
    global stopping
    stopping = True
    if not busy:
        raise SystemExit(0)


def work(db: psycopg.Connection, body: str, task: str) -> None:
    order = json.loads(body)["order"]
    row = db.execute("SELECT items FROM orders WHERE id = %s", (order,)).fetchone()
    if row is None:
        raise LookupError(f"no order {order}")
    total = sum(int(item["cents"]) * int(item["quantity"]) for item in row[0])
    db.execute("UPDATE orders SET status = 'done', total_cents = %s, worked_by = %s, completed_at = now() WHERE id = %s",
               (total, task, order))


def main() -> int:
    global busy
    signal.signal(signal.SIGTERM, stop)
    sqs, url = boto3.client("sqs"), os.environ["SHIPYARD_QUEUE_URL"]
    task = os.environ.get("HOSTNAME") or str(os.getpid())
    print(json.dumps({"event": "polling", "queue": url.rsplit("/", 1)[-1]}), flush=True)
    with psycopg.connect("", autocommit=True) as db:
        while not stopping:
            # Long polling: one request per 20 s while the queue is empty.
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=20).get("Messages", [])
            busy = bool(messages)
            for message in messages:
                try:
                    work(db, message["Body"], task)
                except Exception as exc:  # left on the queue: SQS delivers it again, then dead-letters it
                    print(json.dumps({"event": "failed", "message": message["MessageId"], "error": repr(exc)}), flush=True)
                    continue
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                print(json.dumps({"event": "done", "message": message["MessageId"]}), flush=True)
            busy = False
    return 0


if __name__ == "__main__":
    sys.exit(main())
