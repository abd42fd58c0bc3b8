"""The signed licence record (docs/issuance.md): its schema name, its data hash and its time format.

The record is canonical JSON (`formats.canonical_json`) in the signed envelope
(`formats.envelope`), the same shape as the trust lists of docs/federation.md, so one verifier routine
serves both.
"""

from __future__ import annotations

from formats import algorithms as alg
from formats.canonical_json import canonical_json, iso_time  # noqa: F401  (the signed-JSON time)

RECORD_SCHEMA = "yrd-licence/1"


def data_hash(record: dict) -> str:
    """SM3 over the canonical record, lowercase hex: the value the PDF and the QR carry.
    SM3 for both key algorithms, so a verifier needs one rule whatever signed the record."""
    return alg.sm3(canonical_json(record)).hex()
