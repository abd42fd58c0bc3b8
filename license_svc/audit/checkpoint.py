"""Signing checkpoints (c2sp.org/tlog-checkpoint notes) with the region's SM2 audit-log key.

The format and the verifier live in `verification.tlog`; this module only makes signatures.
A peer region witnesses a checkpoint by adding its own signature line (`cosign`) under its
witness key name `licence-audit-witness/<region>`, after checking that the checkpoint is
consistent with the last one it saw from that log.
"""

from __future__ import annotations

from dataclasses import dataclass

from formats import algorithms as alg
from verification.tlog import (Checkpoint, Note, NoteKey, NoteSignature, parse_note,
                               sm2_key_id)

ORIGIN_PREFIX = "licence-audit/"
WITNESS_PREFIX = "licence-audit-witness/"


def origin_for(region: str) -> str:
    return ORIGIN_PREFIX + region


@dataclass(frozen=True)
class NoteSigner:
    """An SM2 key with the key name its signature lines carry."""

    name: str
    key: alg.SM2PrivateKey

    @property
    def spki(self) -> bytes:
        return self.key.public_key.spki_der()

    @property
    def verifier_key(self) -> NoteKey:
        return NoteKey(self.name, self.spki)

    def sign(self, text: str) -> NoteSignature:
        return NoteSignature(self.name, sm2_key_id(self.name, self.spki),
                             self.key.sign(text.encode("utf-8")))


def log_signer(keystore, region: str) -> NoteSigner:
    """The region's audit-log key from the key store, named after the log's origin."""
    return NoteSigner(origin_for(region), keystore.credential(region, "audit_log", "sm2").key)


def witness_signer(keystore, region: str) -> NoteSigner:
    """The region's witness key (role `witness`): a key of its own, so a cosignature is never
    the same signature as the region's log signature (license_svc.audit.witness)."""
    return NoteSigner(WITNESS_PREFIX + region, keystore.credential(region, "witness", "sm2").key)


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    text = checkpoint.body()
    return Note(text, (signer.sign(text),)).encode()


def cosign(note_bytes: bytes, witness: NoteSigner) -> bytes:
    """Add (or replace) `witness`'s signature line on a signed note."""
    note = parse_note(note_bytes)
    others = tuple(s for s in note.signatures if s.name != witness.name)
    return Note(note.text, others + (witness.sign(note.text),)).encode()
