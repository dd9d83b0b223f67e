"""A preview environment's name from a branch name or `pr-<number>` (issue 27): hostile names give a safe name or a
clear refusal, never a name an AWS API, a shell or a path would take otherwise."""

from __future__ import annotations

import re

import pytest

from shipyard.naming import PREVIEW_NAME_LENGTH, preview_name, rds_identifier_problem

SAFE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@pytest.mark.parametrize(("given", "expected"), [
    ("pr-7", "pr-7"),
    ("feature/Add-Login", "feature-dddb"),  # cut to 12, with 4 hex digits of the whole name's hash
    ("../../x", "x"),
    ("a;rm -rf /", "a-rm-rf"),
    ("7-fix", "p-7-fix"),
    ("Ünïcode-ok", "n-code-ok"),
])
def test_a_branch_name_becomes_a_safe_preview_name(given, expected):
    name = preview_name(given)
    assert SAFE.match(name) and len(name) <= PREVIEW_NAME_LENGTH and rds_identifier_problem(f"shop-staging-{name}") is None
    assert name == expected


def test_long_names_stay_apart_and_stable():
    first, second = preview_name("x" * 300), preview_name("x" * 299 + "y")
    assert first != second and len(first) == len(second) == PREVIEW_NAME_LENGTH
    assert preview_name("x" * 300) == first


@pytest.mark.parametrize(("given", "words"), [("日本語のブランチ", "no ASCII letter or digit"), ("///---", "no ASCII letter or digit"),
                                               ("x" * 2000, "at most 1024")])
def test_nothing_usable_is_refused_in_one_line(given, words):
    with pytest.raises(ValueError, match=words) as refused:
        preview_name(given)
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200
