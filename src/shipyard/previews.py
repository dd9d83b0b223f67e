"""What to do about previews, decided from what exists (pure: no AWS here; app/previewing.py reads and acts).

A preview is found by its stack's tags: shipyard:app, shipyard:environment (its base), shipyard:preview (its name),
shipyard:preview-slot (its place among the base listener's rules) and shipyard:expires. A new preview takes the
lowest free slot; one that exists keeps its own, so its rules never move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shipyard import naming
from shipyard.aws.cloudformation import Stack
from shipyard.errors import Refused

SLOTS = 20  # naming.preview_rule_priority's room: [previews] cap is at most this


@dataclass(frozen=True)
class Preview:
    """One preview as its stack's tags describe it."""

    name: str
    stack: str
    status: str
    slot: int
    expires: datetime
    created: datetime | None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires

    def age(self, now: datetime) -> timedelta | None:
        return now - self.created if self.created else None


@dataclass(frozen=True)
class DeployPlan:
    name: str
    slot: int
    expires: str  # ISO 8601, UTC, to the second
    new: bool


def previews_of(stacks: list[Stack], *, app: str, base: str) -> list[Preview]:
    """The previews of `app` in `base` among the account's stacks, oldest first."""
    found = []
    for stack in stacks:
        tags = stack.tags
        if tags.get("shipyard:app") != app or tags.get("shipyard:environment") != base or naming.PREVIEW_TAG not in tags:
            continue
        try:
            slot, expires = int(tags.get(naming.PREVIEW_SLOT_TAG, "")), parse_time(tags.get(naming.PREVIEW_EXPIRES_TAG, ""))
        except ValueError:  # tags changed by hand: still a preview, expired at once so prune takes it
            slot, expires = -1, datetime.min.replace(tzinfo=UTC)
        found.append(Preview(tags[naming.PREVIEW_TAG], stack.name, stack.status, slot, expires, stack.created))
    return sorted(found, key=lambda p: (p.created or datetime.min.replace(tzinfo=UTC), p.name))


def plan_deploy(existing: list[Preview], name: str, *, cap: int, expires_after_days: int, now: datetime) -> DeployPlan:
    """The slot and expiry of `name`'s deploy; refused (exit 4) where a new one would pass the cap."""
    expires = format_time(now + timedelta(days=expires_after_days))
    own = next((p for p in existing if p.name == name), None)
    if own is not None and 0 <= own.slot < SLOTS:
        return DeployPlan(name, own.slot, expires, new=False)
    others = [p for p in existing if p.name != name]
    if len(others) >= cap:
        oldest = others[0]
        raise Refused(f"preview {name}", f"{len(others)} previews exist, the cap ([previews] cap = {cap}); the oldest is "
                      f"{oldest.name}", f"destroy one first (shipyard preview destroy {oldest.name}), or run "
                      "shipyard preview prune to destroy the expired ones")
    taken = {p.slot for p in others}
    return DeployPlan(name, next(slot for slot in range(SLOTS) if slot not in taken), expires, new=own is None)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
