"""Checkpoints of the audit log (docs/formats.md): the signed notes an auditor checks tree heads with.

The tree maths (SM3 Merkle trees, proofs) is `formats.merkle`, shared with the log itself.

Checkpoints are C2SP tlog-checkpoint notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):

    licence-audit/sh
    1000
    <base64 root>

    — licence-audit/sh <base64(4-byte key ID ‖ DER SM2 signature over the note text)>

Signed notes assign no byte to SM2, so we use the private-use type 0xFF followed by a longer
identifier, as that spec recommends (docs/formats.md "Audit checkpoints"):
key ID = SHA-256(key name ‖ 0x0A ‖ 0xFF ‖ "gbt32918-sm2-sm3" ‖ DER SubjectPublicKeyInfo)[:4].
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Iterable

from formats import algorithms as alg
from formats.errors import FormatError, InvalidSignature, SigningError
from formats.merkle import HASH_SIZE

SM2_SIGNATURE_TYPE = b"\xff" + b"gbt32918-sm2-sm3"
EM_DASH = "\u2014"
# c2sp.org/signed-note: verifiers MUST accept 16 signatures, and post-quantum ones are up to ~5 kB
# (~6.7 kB in base64): 16 of those fit in 128 KiB, 64 KiB would refuse notes the spec requires.
MAX_NOTE_BYTES = 128 * 1024
MAX_NOTE_SIGNATURES = 64
MAX_TREE_SIZE = 2**63 - 1


class NoteFormatError(FormatError):
    """A checkpoint or signed note that does not follow the format; never a crash."""

    code = "note-format"


def sm2_key_id(name: str, spki_der: bytes) -> bytes:
    return alg.sha256(name.encode("utf-8") + b"\n" + SM2_SIGNATURE_TYPE + spki_der)[:4]


def _check_key_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteFormatError(f"invalid key name {name!r}", f"密钥名称无效：{name!r}")


@dataclass(frozen=True)
class NoteKey:
    """A verifier key: a name bound to an SM2 public key (DER SubjectPublicKeyInfo)."""

    name: str
    spki: bytes

    def __post_init__(self):
        _check_key_name(self.name)

    @property
    def key_id(self) -> bytes:
        return sm2_key_id(self.name, self.spki)

    def verify(self, signature: bytes, text: bytes) -> bool:
        try:
            alg.load_public_key(self.spki).verify(signature, text)
            return True
        except (InvalidSignature, SigningError):
            return False


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{EM_DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str                      # the signed text, ending in a newline
    signatures: tuple[NoteSignature, ...] = ()

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode("utf-8")


def parse_note(data: bytes) -> Note:
    """Split a signed note into text and signature lines (c2sp.org/signed-note §Format)."""
    if len(data) > MAX_NOTE_BYTES:
        raise NoteFormatError(f"note larger than {MAX_NOTE_BYTES} bytes", "签名注记过大")
    try:
        s = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise NoteFormatError("note is not UTF-8", "签名注记不是 UTF-8 编码") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in s):
        raise NoteFormatError("note contains control characters", "签名注记含有控制字符")
    if not s.endswith("\n"):
        raise NoteFormatError("note does not end in a newline", "签名注记未以换行结尾")
    split = s.rfind("\n\n")
    if split < 0:
        raise NoteFormatError("note has no signature block (blank line missing)",
                              "签名注记缺少签名部分（无空行分隔）")
    text, sig_block = s[:split + 1], s[split + 2:]
    if not sig_block:
        # The spec splits at the LAST blank line, so a blank line after the signatures leaves none
        # (golang.org/x/mod/sumdb/note rejects it too); name the cause, not "no signature".
        raise NoteFormatError("note ends in a blank line: signature lines must come last",
                              "签名注记以空行结尾：签名行必须位于最后")
    signatures = []
    for line in sig_block.split("\n")[:-1]:
        if not line.startswith(EM_DASH + " "):
            raise NoteFormatError(f"malformed signature line {line[:60]!r}",
                                  "签名行格式错误（应以 “— ” 开头）")
        parts = line[2:].split(" ")
        if len(parts) != 2:
            raise NoteFormatError("signature line must be '— <name> <base64>'",
                                  "签名行应为 “— 名称 base64签名”")
        name, blob = parts
        _check_key_name(name)
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise NoteFormatError(f"signature of {name} is not base64",
                                  f"{name} 的签名不是 base64 编码") from None
        if len(raw) < 5:
            raise NoteFormatError(f"signature of {name} is too short", f"{name} 的签名过短")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteFormatError("note carries no signature", "签名注记没有签名")
    if len(signatures) > MAX_NOTE_SIGNATURES:
        raise NoteFormatError("too many signatures on note", "签名注记中的签名过多")
    return Note(text, tuple(signatures))


def verify_note(note: Note, keys: Iterable[NoteKey]) -> tuple[list[str], list[str]]:
    """(names whose signature verified, names whose signature FAILED), keys matched on both name
    and key ID; signatures from unknown keys are ignored, as the spec requires."""
    known = {(k.name, k.key_id): k for k in keys}
    good, bad = [], []
    text = note.text.encode("utf-8")
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        (good if key.verify(sig.signature, text) else bad).append(sig.name)
    return good, bad


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    note: Note | None = field(default=None, compare=False)

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"),
                 *self.extensions]
        return "\n".join(lines) + "\n"


def parse_checkpoint_text(text: str) -> Checkpoint:
    """The note text of a c2sp.org/tlog-checkpoint: origin, size, root, extension lines."""
    if not text.endswith("\n"):
        raise NoteFormatError("checkpoint text does not end in a newline", "检查点正文未以换行结尾")
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteFormatError("checkpoint needs origin, size and root hash lines",
                              "检查点应包含来源、树大小、根哈希三行")
    if not all(lines):
        # c2sp.org/tlog-checkpoint: every line, extension lines included, MUST be non-empty; a
        # blank line between the text and the signature block is the note's separator, not text.
        raise NoteFormatError("checkpoint text has an empty line (tlog-checkpoint lines must be "
                              "non-empty)", "检查点正文含空行（tlog-checkpoint 各行不得为空）")
    origin, size_s, root_s, *ext = lines
    if not size_s.isascii() or not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")) \
            or len(size_s) > 19 or int(size_s) > MAX_TREE_SIZE:
        raise NoteFormatError(f"bad tree size {size_s[:30]!r}", f"树大小格式错误：{size_s[:30]!r}")
    try:
        root = base64.b64decode(root_s, validate=True)
    except (binascii.Error, ValueError):
        raise NoteFormatError("root hash is not base64", "根哈希不是 base64 编码") from None
    if len(root) != HASH_SIZE:
        raise NoteFormatError("root hash is not 32 bytes", "根哈希长度不是 32 字节")
    return Checkpoint(origin, int(size_s), root, tuple(ext))


def parse_checkpoint(data: bytes) -> Checkpoint:
    note = parse_note(data)
    cp = parse_checkpoint_text(note.text)
    return Checkpoint(cp.origin, cp.size, cp.root, cp.extensions, note)


@dataclass(frozen=True)
class CheckpointResult:
    checkpoint: Checkpoint | None
    ok: bool
    detail: str
    witnesses: tuple[str, ...] = ()


def verify_checkpoint(data: bytes, log_keys: Iterable[NoteKey], *, origin: str | None = None,
                      witness_keys: Iterable[NoteKey] = ()) -> CheckpointResult:
    """Parse a checkpoint and check the log's signature (and report which known witnesses
    cosigned).  Never raises: a malformed note is a failed result with a reason."""
    try:
        cp = parse_checkpoint(data)
    except NoteFormatError as exc:
        return CheckpointResult(None, False, str(exc))
    if origin is not None and cp.origin != origin:
        return CheckpointResult(cp, False, f"检查点来源为 {cp.origin!r}，应为 {origin!r} / "
                                           f"origin {cp.origin!r}, expected {origin!r}")
    good, bad = verify_note(cp.note, log_keys)
    if bad:
        return CheckpointResult(cp, False, f"日志签名无效 / log signature does not verify: {bad}")
    if not good:
        return CheckpointResult(cp, False, "没有受信任日志密钥的签名 / no signature by a trusted log key")
    wgood, wbad = verify_note(cp.note, witness_keys)
    if wbad:
        return CheckpointResult(cp, False, f"见证签名无效 / witness cosignature does not verify: {wbad}")
    return CheckpointResult(cp, True, f"由 {', '.join(good)} 签名 / signed by {', '.join(good)}",
                            tuple(wgood))
