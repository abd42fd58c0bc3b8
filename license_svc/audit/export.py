"""`license-svc audit export`: the log as an auditor takes it away (docs/formats.md).

The export is a plain dump — entries as stored, leaf hashes as recorded, every checkpoint, and
a consistency proof between each pair of successive checkpoints — and interprets nothing: the
offline verifier (`verification.audit`) trusts only the checkpoint signatures, so whatever
this code or the database got wrong shows up there.

A directory gets `manifest.json`, `entries.jsonl`, `leaf-hashes.jsonl`, `checkpoints.jsonl`
and `consistency.jsonl` (streamed, fine for 10^6 entries); a path ending in `.json` gets one
JSON document with the same parts (handy for small logs and for attaching to a case file).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats import merkle
from formats.audit_leaf import INDEX_COLUMNS
from license_svc.audit import sequencer, store
from license_svc.audit.entries import format_time
from verification.audit import EXPORT_FORMAT
from verification.tlog import NoteKey

_BATCH = 5000


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _ranged(session: Session, query_for, size: int) -> Iterator[tuple]:
    for start in range(0, size, _BATCH):
        yield from session.execute(query_for(start, min(start + _BATCH, size)))


def _entries(session: Session, size: int) -> Iterator[dict]:
    """Each entry with the lookup columns as the database holds them: the verifier checks them
    against the leaf, so an entry hidden from the searches by a rewritten column shows."""
    t = store.entries_t
    cols = [t.c[name] for name in INDEX_COLUMNS]
    q = lambda a, b: select(t.c.idx, t.c.leaf, *cols).where(t.c.idx >= a, t.c.idx < b).order_by(t.c.idx)  # noqa: E731
    for idx, leaf, *values in _ranged(session, q, size):
        yield {"index": idx, "leaf": _b64(bytes(leaf)),
               "columns": {name: format_time(v) if name == "time" else v
                           for name, v in zip(INDEX_COLUMNS, values)}}


def _leaf_hashes(session: Session, size: int) -> Iterator[dict]:
    t = store.nodes_t
    q = lambda a, b: (select(t.c.idx, t.c.hash)  # noqa: E731
                      .where(t.c.level == 0, t.c.idx >= a, t.c.idx < b).order_by(t.c.idx))
    for idx, h in _ranged(session, q, size):
        yield {"index": idx, "hash": _b64(bytes(h))}


def _consistency(session: Session, sizes: list[int]) -> Iterator[dict]:
    for a, b in zip(sizes, sizes[1:]):
        proof = store.with_nodes(session, lambda node: merkle.consistency_path(a, b, node))
        yield {"from": a, "to": b, "hashes": [_b64(h) for h in proof]}


def export_log(session: Session, out: Path, *, origin: str, log_keys: list[NoteKey],
               now: datetime) -> dict:
    """Write the export to `out` (directory, or a `.json` file); returns the manifest."""
    sequencer.sequence_pending(session)
    cps = store.checkpoints(session)
    size = max([store.tree_size(session)] + [c.size for c in cps])
    manifest = {
        "format": EXPORT_FORMAT, "origin": origin, "size": size, "exported_at": format_time(now),
        "log_keys": [{"name": k.name, "key_id": k.key_id.hex(), "spki": _b64(k.spki)} for k in log_keys],
        "checkpoints": len(cps),
    }
    from license_svc.audit.witness import with_cosignatures

    # With the witness lines gathered so far: `audit verify --witnesses N` counts them.
    checkpoint_rows = [{"size": c.size, "note": with_cosignatures(session, c.size, c.note)}
                       for c in cps]
    sizes = sorted({c.size for c in cps})
    out = Path(out)
    if out.suffix == ".json":
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"manifest": manifest, "checkpoints": [c["note"] for c in checkpoint_rows],
               "consistency": list(_consistency(session, sizes)),
               "entries": list(_entries(session, size)), "leaf_hashes": list(_leaf_hashes(session, size))}
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        return manifest
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    for name, rows in (("checkpoints.jsonl", iter(checkpoint_rows)),
                       ("consistency.jsonl", _consistency(session, sizes)),
                       ("entries.jsonl", _entries(session, size)),
                       ("leaf-hashes.jsonl", _leaf_hashes(session, size))):
        with open(out / name, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    return manifest
