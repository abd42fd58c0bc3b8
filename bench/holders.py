"""Licence requests for benchmarks, each for a holder no earlier request had, and the check every
issuance answer gets.

A holder has at most one licence of a type in force (docs/issuance.md "No duplicates"), so a
benchmark that sent the template's example again and again would measure 409 refusals instead
of issuances.  The holders are the test helper's (`tests.support.issuing.other_holder_code`:
check-valid USCCs and identity numbers), which the bench scripts already import; the nth holder
starts at 1 because 0 is the example itself, which the demo data of a development node holds.
"""

from __future__ import annotations

import itertools

from tests.support.issuing import example


class Holders:
    """`holders(**changes)` → the next request body of type `folder` (thread-safe: `itertools.count`
    hands out each number once).  `start`: the first holder's number — a run against a node that
    outlives it (bench/soak.py --url) starts somewhere a previous run did not reach."""

    def __init__(self, folder: str, start: int = 1, **changes):
        self.folder, self.changes, self._numbers = folder, changes, itertools.count(start)

    def __call__(self, **changes) -> dict:
        return example(self.folder, next(self._numbers), **{**self.changes, **changes})

    def batch(self, size: int) -> list[dict]:
        return [self() for _ in range(size)]


def created(response, what: str = "issuance") -> dict:
    """The 201 body of an issuance (single or batch), or SystemExit: a benchmark must never go on
    measuring refusals.  A batch answers 201 while leaving duplicates out (`rejected`), so that is
    a failure here too."""
    body = response.json() if response.status_code == 201 else None
    if body is None or body.get("rejected"):
        raise SystemExit(f"{what} answered {response.status_code}, not 201 with every item issued: "
                         f"{response.text[:300]}")
    return body


def held(response, what: str) -> str:
    """The identifier of a licence a dev client's holder must have (the citizen's driving licence,
    for a grant or a presentation): issued now (201), or already in force — a development node's
    demo data holds it, and the request is then a 409 naming it.  Anything else: SystemExit."""
    if response.status_code == 409 and response.json().get("existing_identifier"):
        return response.json()["existing_identifier"]
    return created(response, what)["identifier"]
