"""The shop's nightly job: totals the orders completed each day into daily_totals, then exits.

Run by EventBridge Scheduler through the job's state machine (shipyard.toml: [jobs.nightly]); `shipyard run ENV --job
nightly` runs it now. Idempotent: a day's row is written again with the same totals, so a retried or repeated run
changes nothing. Its exit code is its verdict: 0 succeeded, anything else fails the run and its alarm.
"""

from __future__ import annotations

import json
import sys

import psycopg

TOTALS = """
INSERT INTO daily_totals (day, orders, total_cents)
SELECT completed_at::date, count(*), coalesce(sum(total_cents), 0)
FROM orders WHERE status = 'done' GROUP BY completed_at::date
ON CONFLICT (day) DO UPDATE SET orders = excluded.orders, total_cents = excluded.total_cents, written_at = now()
"""


def main() -> int:
    with psycopg.connect("", autocommit=True) as db:
        days = db.execute(TOTALS).rowcount
    print(json.dumps({"event": "totalled", "days": days}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
