"""Releases that tell the truth: release, promote, rollback, status, explain."""
