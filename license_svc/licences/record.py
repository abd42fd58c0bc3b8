"""The signed licence record (DESIGN §4): its schema name, its data hash and its time format.

The record is canonical JSON (`formats.canonical_json`) in the signed envelope
(`formats.envelope`), the same shape as the trust lists of DESIGN §8, so one verifier routine
serves both.
"""

from __future__ import annotations

from datetime import datetime, timezone

from formats import algorithms as alg
from formats.canonical_json import canonical_json
from formats.errors import SigningError

RECORD_SCHEMA = "yrd-licence/1"


def iso_time(at: datetime) -> str:
    """RFC 3339 UTC with a Z and whole seconds: the one time format inside signed JSON."""
    if at.tzinfo is None:
        raise SigningError("signed times must be timezone-aware", "签名时间必须带时区")
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_hash(record: dict) -> str:
    """SM3 over the canonical record, lowercase hex: the value the PDF and the QR carry.
    SM3 for both key algorithms, so a verifier needs one rule whatever signed the record."""
    return alg.sm3(canonical_json(record)).hex()
