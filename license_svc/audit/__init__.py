"""The tamper-evident audit log (用证留痕, docs/formats.md).

Domain code calls `record(ctx, session, action=..., client=..., ...)` (or `append(session,
entry)`) inside the transaction of the action it audits; the entry is queued there and gets its
log index from the sequencer after the commit (`sequencer`).  Code that reads `audit_entries`
directly calls `sequence_pending(session)` first.  The log is an RFC 9162 Merkle tree
over SM3 (`formats.merkle`) whose signed checkpoints, inclusion and consistency proofs anyone
can check with `verification.tlog` / `verification.audit` and `license-svc audit verify`.

Modules: `entries` (what an entry says, its canonical bytes), `holder` (keyed holder
references), `models`/`store` (tables and SQL; roots and proofs from the stored subtree hashes
are `formats.merkle`'s), `sequencer` (queue → consecutive indexes), `checkpoint` (signing
notes), `log` (the domain functions), `export`, `witness` (cosigning other regions' checkpoints,
incidents, and keeping the cosignatures other regions deliver for ours).
"""

from license_svc.audit.entries import Actor, AuditEntry, AuditEntryError, AuditError, AuditUnavailable
from license_svc.audit.log import (AuditBadRequest, AuditNotFound, CheckpointPublisher, append,
                                   append_many,
                                   consistency_proof, entries_for_holder, failing_appends,
                                   get_entry, holder_reference, inclusion_proof, index_of,
                                   latest_checkpoint_note, publish, publish_checkpoint, record,
                                   sequence, sequence_pending)

__all__ = [
    "Actor", "AuditEntry", "AuditError", "AuditEntryError", "AuditUnavailable", "AuditBadRequest", "AuditNotFound",
    "CheckpointPublisher", "append", "append_many", "record", "publish", "publish_checkpoint",
    "latest_checkpoint_note", "inclusion_proof", "consistency_proof", "get_entry",
    "entries_for_holder", "holder_reference", "failing_appends", "index_of", "sequence",
    "sequence_pending",
]
