"""Offline verification of an exported audit log: was any entry changed, dropped or reordered?

Input is an export (`license-svc audit export`, format in docs/formats.md "Audit checkpoints"):
the entries as stored, the leaf hashes the log recorded when it appended them, every signed
checkpoint, and consistency proofs between successive checkpoints.  The verifier trusts none of
it except the checkpoints' signatures under the audit-log key it is given:

1. every checkpoint must carry a valid signature by a trusted log key;
2. the tree recomputed from the entries' bytes must have each checkpoint's root at its size;
3. successive checkpoints must be consistent (RFC 9162 §2.1.4 proofs, checked against the
   signed roots alone);
4. to *name* the first bad entry, the recorded leaf hashes are used only once they are
   authenticated: if the tree over them reproduces every signed root, they are the hashes
   the log signed, and the first entry whose bytes hash differently is the one changed.

Entries are streamed, with two compact ranges (O(log n) memory), so a log of 10^6 entries
verifies in seconds without loading it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from formats.audit_leaf import LeafColumnsError, index_columns
from formats.merkle import HASH_SIZE, CompactRange, extends, leaf_hash
from verification.checks import AuditCheck
from verification.report import Report
from verification.tlog import NoteKey, verify_checkpoint

EXPORT_FORMAT = "licence-audit-export/2"
# /1 exports carry no lookup columns; they are still read, without the column check.
READABLE_FORMATS = ("licence-audit-export/1", EXPORT_FORMAT)
_MISSING = b"\x00" * HASH_SIZE  # stands in for a dropped entry so hashing can go on


class ExportFormatError(ValueError):
    """The export cannot be read at all (exit code 3), as opposed to read and found bad."""

    def __init__(self, message_en: str, message_zh: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_en, self.message_zh = message_en, message_zh


@dataclass
class ExportBundle:
    manifest: dict
    checkpoints: list[bytes]
    consistency: list[dict]
    entries: Callable[[], Iterator[dict]]      # rows {"index", "leaf": base64}
    leaf_hashes: Callable[[], Iterator[dict]]  # rows {"index", "hash": base64}

    @property
    def origin(self) -> str:
        return self.manifest.get("origin", "")

    def log_keys(self) -> list[NoteKey]:
        return [NoteKey(k["name"], base64.b64decode(k["spki"])) for k in self.manifest.get("log_keys", [])]


def _jsonl(path: Path) -> Callable[[], Iterator[dict]]:
    def rows() -> Iterator[dict]:
        with open(path, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:
                        yield {"_malformed": f"{path.name} line {n}"}
    return rows


def load_export(path: str | Path) -> ExportBundle:
    """Open an export directory (manifest.json + *.jsonl) or a single-file JSON export."""
    path = Path(path)
    try:
        if path.is_dir():
            for name in ("entries.jsonl", "leaf-hashes.jsonl", "checkpoints.jsonl", "consistency.jsonl"):
                if not (path / name).is_file():
                    raise FileNotFoundError(f"{name} missing")
            manifest = json.loads((path / "manifest.json").read_bytes())
            checkpoints = [r["note"].encode("utf-8") for r in _jsonl(path / "checkpoints.jsonl")()]
            consistency = list(_jsonl(path / "consistency.jsonl")())
            bundle = ExportBundle(manifest, checkpoints, consistency,
                                  _jsonl(path / "entries.jsonl"), _jsonl(path / "leaf-hashes.jsonl"))
        else:
            doc = json.loads(path.read_bytes())
            entries, hashes = doc["entries"], doc["leaf_hashes"]
            bundle = ExportBundle(doc["manifest"], [n.encode("utf-8") for n in doc["checkpoints"]],
                                  doc["consistency"], lambda: iter(entries), lambda: iter(hashes))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExportFormatError(f"cannot read audit export {path}: {exc.__class__.__name__}: {exc}",
                                f"无法读取审计日志导出 {path}") from None
    if not isinstance(bundle.manifest, dict) or bundle.manifest.get("format") not in READABLE_FORMATS:
        raise ExportFormatError(f"not an audit export (format must be {EXPORT_FORMAT})",
                                f"不是审计日志导出文件（格式应为 {EXPORT_FORMAT}）")
    return bundle


@dataclass
class AuditReport(Report):
    origin: str = ""
    size: int = 0
    checkpoints_verified: int = 0
    first_bad_entry: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d = super().as_dict()
        d["audit"] = {"origin": self.origin, "size": self.size,
                      "checkpoints_verified": self.checkpoints_verified,
                      "first_bad_entry": self.first_bad_entry}
        return d


def _b64(value: Any) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None


def _rows_by_index(rows: Iterable[dict], problems: dict) -> Iterator[tuple[int, dict]]:
    """Rows in file order with their index; records the first malformed, duplicate or
    out-of-order row in `problems` (the exporter writes them sorted, one per index)."""
    last = -1
    for row in rows:
        idx = row.get("index") if isinstance(row, dict) else None
        if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
            problems.setdefault("malformed", row.get("_malformed", f"after index {last}")
                                if isinstance(row, dict) else f"after index {last}")
            continue
        if idx <= last:
            problems.setdefault("order", idx)
            continue
        last = idx
        yield idx, row


@dataclass
class _Signed:
    size: int
    root: bytes
    label: str
    computed_ok: bool | None = None
    recorded_ok: bool | None = None


@dataclass
class _Scan:
    size: int = 0
    first_missing: int | None = None
    first_mismatch: int | None = None      # entry bytes hash differently from the recorded hash
    first_bad_leaf: int | None = None      # not base64 / not JSON
    first_bad_columns: int | None = None   # lookup columns that disagree with the leaf
    bad_columns: str = ""
    recorded_complete: bool = True
    entry_problems: dict = field(default_factory=dict)
    hash_problems: dict = field(default_factory=dict)


def _columns_problem(leaf: bytes, stored: Any) -> str | None:
    """Why the exported lookup columns of an entry disagree with its leaf, or None."""
    if not isinstance(stored, dict):
        return "no lookup columns"
    try:
        derived = index_columns(leaf)
    except LeafColumnsError as exc:
        return str(exc)
    wrong = [k for k, v in derived.items() if stored.get(k) != v]
    return f"{', '.join(wrong)} differ from the leaf" if wrong else None


def _scan(bundle: ExportBundle, signed: list[_Signed], upto: int) -> _Scan:
    """One pass over entries and recorded hashes, comparing roots at every signed size (and,
    in a /2 export, each entry's lookup columns with its leaf)."""
    scan = _Scan()
    with_columns = bundle.manifest.get("format") == EXPORT_FORMAT
    computed, recorded = CompactRange(), CompactRange()
    entries = _rows_by_index(bundle.entries(), scan.entry_problems)
    hashes = _rows_by_index(bundle.leaf_hashes(), scan.hash_problems)
    e = next(entries, None)
    h = next(hashes, None)
    by_size: dict[int, list[_Signed]] = {}
    for s in signed:
        by_size.setdefault(s.size, []).append(s)

    def compare() -> None:
        for s in by_size.get(computed.size, ()):
            s.computed_ok = computed.root() == s.root
            s.recorded_ok = scan.recorded_complete and recorded.root() == s.root

    compare()  # size 0
    pos = 0
    while e is not None or h is not None or pos < upto:
        if pos >= upto and (e is None or e[0] > pos) and (h is None or h[0] > pos):
            scan.first_missing = pos if scan.first_missing is None else scan.first_missing
            break  # rows resume beyond a hole past the last checkpoint: named, not hashed on
        leaf_h = rec_h = None
        if e is not None and e[0] == pos:
            leaf = _b64(e[1].get("leaf"))
            if leaf is None:
                scan.first_bad_leaf = pos if scan.first_bad_leaf is None else scan.first_bad_leaf
                leaf_h = _MISSING
            else:
                leaf_h = leaf_hash(leaf)
                try:
                    json.loads(leaf)
                except ValueError:
                    scan.first_bad_leaf = pos if scan.first_bad_leaf is None else scan.first_bad_leaf
                problem = _columns_problem(leaf, e[1].get("columns")) if with_columns else None
                if problem and scan.first_bad_columns is None:
                    scan.first_bad_columns, scan.bad_columns = pos, problem
            e = next(entries, None)
        if h is not None and h[0] == pos:
            rec_h = _b64(h[1].get("hash"))
            if rec_h is not None and len(rec_h) != HASH_SIZE:
                rec_h = None
            h = next(hashes, None)
        if leaf_h is None and scan.first_missing is None:
            scan.first_missing = pos
        if rec_h is None:
            scan.recorded_complete = False
        if leaf_h is not None and rec_h is not None and leaf_h != rec_h and scan.first_mismatch is None:
            scan.first_mismatch = pos
        computed.append(leaf_h if leaf_h is not None else _MISSING)
        recorded.append(rec_h if rec_h is not None else _MISSING)
        pos += 1
        compare()
    scan.size = pos
    return scan


WITNESS_PREFIX = "licence-audit-witness/"
ORIGIN_PREFIX = "licence-audit/"


def verify_export(bundle: ExportBundle, trusted_keys: list[NoteKey] | None = None, *,
                  extra_checkpoints: Iterable[tuple[str, bytes]] = (),
                  witness_keys: Iterable[NoteKey] = (), min_witnesses: int = 0) -> AuditReport:
    """Check an export against the audit-log key(s) `trusted_keys` (from the key store or the
    trust list; None falls back to the keys named in the export, which is then INDETERMINATE).
    `extra_checkpoints` are (label, note) an auditor kept from earlier, e.g. witnessed ones:
    they must be consistent with the export like its own.  With `min_witnesses` N > 0, the
    export's final checkpoint must carry at least N valid cosignatures under `witness_keys` from
    regions other than the log's own (a log cannot witness itself)."""
    report = AuditReport(subject="audit", origin=bundle.origin)
    origin = bundle.origin
    try:
        export_keys = bundle.log_keys()
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        report.fail_format(AuditCheck.EXPORT_FORMAT, f"导出清单中的日志公钥无法读取 / unreadable log keys: {exc}")
        return report
    if trusted_keys is None:
        keys = export_keys
        report.add(AuditCheck.LOG_KEY, False, "未提供受信任的审计日志公钥，使用导出文件自带的公钥 / no trusted "
                   "audit-log key given; using the key named in the export", indeterminate=True,
                   failure="NO_CERTIFICATE_CHAIN_FOUND")
    else:
        keys = list(trusted_keys)
        ids = ", ".join(f"{k.name} {k.key_id.hex()}" for k in keys)
        report.add(AuditCheck.LOG_KEY, bool(keys), f"受信任的日志公钥 / trusted log key: {ids}",
                   failure="NO_CERTIFICATE_CHAIN_FOUND", indeterminate=True)
    report.signer = {"keys": [{"name": k.name, "key_id": k.key_id.hex()} for k in keys]}

    # 1. checkpoint signatures
    signed: list[_Signed] = []
    bad_sigs = []
    notes = [(f"checkpoint #{i + 1}", n) for i, n in enumerate(bundle.checkpoints)]
    notes += list(extra_checkpoints)
    witness_keys = list(witness_keys)
    own_witness = WITNESS_PREFIX + origin[len(ORIGIN_PREFIX):] if origin.startswith(ORIGIN_PREFIX) else None
    cosigners: dict[tuple[int, bytes], set[str]] = {}
    final = None
    for n, (label, note) in enumerate(notes):
        res = verify_checkpoint(note, keys, origin=origin or None, witness_keys=witness_keys)
        if not res.ok:
            where = f"{label} (size {res.checkpoint.size})" if res.checkpoint else label
            bad_sigs.append(f"{where}: {res.detail}")
            continue
        signed.append(_Signed(res.checkpoint.size, res.checkpoint.root, label))
        key = (res.checkpoint.size, res.checkpoint.root)
        cosigners.setdefault(key, set()).update(w for w in res.witnesses if w != own_witness)
        if n < len(bundle.checkpoints) and (final is None or key[0] > final[0]):
            final = key
    signed.sort(key=lambda s: s.size)
    report.checkpoints_verified = len(signed)
    report.add(AuditCheck.CHECKPOINT_SIGNATURES, not bad_sigs and bool(signed),
               "; ".join(bad_sigs[:5]) if bad_sigs else
               (f"{len(signed)} 个检查点签名有效 / {len(signed)} checkpoint signatures verify"
                if signed else "没有检查点 / no checkpoint in the export"),
               failure="SIG_CRYPTO_FAILURE")

    if min_witnesses > 0:
        got = sorted(cosigners.get(final, ())) if final else []
        report.add(AuditCheck.WITNESS_COSIGNATURES, len(got) >= min_witnesses,
                   (f"最终检查点（大小 {final[0] if final else '—'}）有 {len(got)} 个其他地区的有效见证签名，"
                    f"要求 {min_witnesses} / the final checkpoint (size {final[0] if final else '-'}) "
                    f"carries {len(got)} valid cosignatures from other regions ({', '.join(got) or 'none'}); "
                    f"{min_witnesses} required"), failure="SIG_CONSTRAINTS_FAILURE")

    # 2. forks among the signed checkpoints themselves: same size, different root; bad proofs
    forks = [f"{a.label} / {b.label} at size {a.size}" for a, b in zip(signed, signed[1:])
             if a.size == b.size and a.root != b.root]
    roots = {s.size: s.root for s in signed}
    proofs = {(p.get("from"), p.get("to")): p.get("hashes") for p in bundle.consistency
              if isinstance(p, dict)}
    sizes = sorted(roots)
    proven = unproven = 0
    for a, b in zip(sizes, sizes[1:]):
        hashes = proofs.get((a, b))
        decoded = [_b64(x) for x in hashes] if isinstance(hashes, list) else None
        if decoded is None or any(x is None for x in decoded):
            unproven += 1  # no proof is no evidence either way: the recomputed tree decides
            continue
        if extends(a, b, roots[a], roots[b], decoded):
            proven += 1
        else:
            forks.append(f"{a} → {b}")
    report.add(AuditCheck.CHECKPOINT_CONSISTENCY, not forks,
               ("检查点之间不一致（日志被改写或分叉）/ checkpoints inconsistent (log rewritten or "
                f"forked): {'; '.join(forks[:5])}") if forks else
               f"{proven} 对相邻检查点有一致性证明，{unproven} 对无证明（由重算的树判定）/ {proven} "
               f"successive pairs proven consistent, {unproven} without a proof (decided by the "
               "recomputed tree)", failure="HASH_FAILURE")

    # 3. recompute the tree from the entries
    upto = max(sizes, default=0)
    scan = _scan(bundle, signed, upto)
    report.size = scan.size
    for problems, what in ((scan.entry_problems, "entries"), (scan.hash_problems, "leaf hashes")):
        if "malformed" in problems:
            report.fail_format(AuditCheck.EXPORT_FORMAT,
                               f"{what}: 无法解析的记录 / malformed row ({problems['malformed']})")
        if "order" in problems:
            report.add(AuditCheck.ENTRY_SEQUENCE, False, f"{what}: 序号 {problems['order']} 重复或乱序 / index "
                       f"{problems['order']} duplicated or out of order", failure="HASH_FAILURE")
            report.first_bad_entry = _min(report.first_bad_entry, problems["order"])
    if scan.first_missing is not None:
        report.add(AuditCheck.ENTRY_SEQUENCE, False, f"审计条目 {scan.first_missing} 缺失（被删除）/ entry "
                   f"{scan.first_missing} is missing (deleted)", failure="HASH_FAILURE")
        report.first_bad_entry = _min(report.first_bad_entry, scan.first_missing)
    elif not report.check(AuditCheck.ENTRY_SEQUENCE):
        report.add(AuditCheck.ENTRY_SEQUENCE, True, f"条目 0…{scan.size - 1} 连续 / entries 0…{scan.size - 1} "
                   "consecutive" if scan.size else "空日志 / empty log")
    if scan.first_bad_leaf is not None:
        report.add(AuditCheck.ENTRY_ENCODING, False, f"审计条目 {scan.first_bad_leaf} 不是有效的 JSON / entry "
                   f"{scan.first_bad_leaf} is not valid JSON", failure="FORMAT_FAILURE")

    if bundle.manifest.get("format") == EXPORT_FORMAT:
        bad = scan.first_bad_columns
        report.add(AuditCheck.INDEX_COLUMNS, bad is None,
                   f"审计条目 {bad} 的检索列与条目内容不符（该条目会从持证人和监察的查询中消失）/ the lookup "
                   f"columns of entry {bad} disagree with its leaf ({scan.bad_columns}): searches "
                   "by holder, licence or department would miss it" if bad is not None else
                   "每个条目的检索列与条目内容一致 / every entry's lookup columns match its leaf",
                   failure="HASH_FAILURE")
        if bad is not None:
            report.first_bad_entry = _min(report.first_bad_entry, bad)
    else:
        report.notes.append("旧格式导出（/1）不含检索列，未检查 / a /1 export carries no lookup "
                            "columns; they were not checked")

    failing = [s for s in signed if not s.computed_ok]
    if failing:
        first = failing[0]
        good_before = max((s.size for s in signed if s.computed_ok and s.size < first.size), default=0)
        authenticated = all(s.recorded_ok for s in signed)
        named = _min(scan.first_missing, scan.first_mismatch)
        if authenticated and named is not None:
            detail = (f"审计条目 {named} 已被篡改（内容与日志签名时不同）/ entry {named} was altered "
                      "(its bytes differ from what the log signed)")
            report.first_bad_entry = _min(report.first_bad_entry, named)
        elif named is not None and named < first.size:
            detail = (f"审计条目 {named} 与记录的哈希不符，树根与检查点（大小 {first.size}）不一致 / "
                      f"entry {named} differs from its recorded hash; root mismatch at checkpoint "
                      f"size {first.size}")
            report.first_bad_entry = _min(report.first_bad_entry, named)
        elif scan.size < first.size:
            detail = (f"导出只有 {scan.size} 条，检查点覆盖 {first.size} 条：条目 {scan.size} 起被删除 / "
                      f"only {scan.size} entries but a checkpoint covers {first.size}: entries from "
                      f"{scan.size} deleted")
            report.first_bad_entry = _min(report.first_bad_entry, scan.size)
        else:
            detail = (f"条目 {good_before}…{first.size - 1} 中有条目被改动，或检查点（大小 {first.size}，"
                      f"{first.label}）签署的是另一棵树 / an entry in {good_before}…{first.size - 1} was "
                      f"altered together with its recorded hash, or the checkpoint at size "
                      f"{first.size} ({first.label}) was signed over a different tree")
            if report.first_bad_entry is None and first.size - good_before == 1:
                report.first_bad_entry = good_before
        report.add(AuditCheck.TREE_ROOTS, False, detail, failure="HASH_FAILURE")
    else:
        report.add(AuditCheck.TREE_ROOTS, True, f"由条目重算的树根与全部 {len(signed)} 个检查点一致 / the root "
                   f"recomputed from the entries matches all {len(signed)} checkpoints")
        if scan.first_mismatch is not None:
            report.add(AuditCheck.RECORDED_LEAF_HASHES, False, f"条目 {scan.first_mismatch} 的记录哈希被改动 / the "
                       f"recorded leaf hash of entry {scan.first_mismatch} was altered",
                       failure="HASH_FAILURE")
            report.first_bad_entry = _min(report.first_bad_entry, scan.first_mismatch)
    covered = upto
    if scan.size > covered:
        report.notes.append(f"条目 {covered}…{scan.size - 1} 尚无检查点覆盖 / entries {covered}…"
                            f"{scan.size - 1} are not yet covered by a checkpoint")
    return report


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)
