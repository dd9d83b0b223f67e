"""Timestamps in AWS's answers: ISO 8601 with a zone read by datetime, every other form still by botocore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shipyard.aws.session import _timestamp


def test_iso_timestamps_with_a_zone_keep_their_instant_and_other_forms_fall_back_to_botocore():
    assert _timestamp("2026-12-06T02:51:13.286039Z") == datetime(2026, 12, 6, 2, 51, 13, 286039, tzinfo=UTC)
    assert _timestamp("2026-12-06T03:51:13+01:00") == datetime(2026, 12, 6, 3, 51, 13, tzinfo=timezone(timedelta(hours=1)))
    assert _timestamp("Sun, 06 Dec 2026 02:50:56 GMT") == datetime(2026, 12, 6, 2, 50, 56, tzinfo=UTC)  # S3's headers
    assert _timestamp(1796525456) == datetime(2026, 12, 6, 2, 50, 56, tzinfo=UTC)  # JSON protocols' epoch seconds
    zoneless = _timestamp("2026-12-06T02:51:13")  # as botocore reads it: dateutil, no zone invented
    assert zoneless.replace(tzinfo=None) == datetime(2026, 12, 6, 2, 51, 13)
