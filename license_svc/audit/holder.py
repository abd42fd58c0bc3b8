"""Holder references: how the audit log names a holder without storing the ID number.

holder_ref = hex(HMAC-SM3(region secret, "holder-ref/v1" ‖ 0x00 ‖ normalised holder code)).

Why keyed: a plain hash of an 18-digit ID number is reversed by enumeration in minutes (birth
dates and region codes leave ~10^9 candidates), so an exported log would leak every holder.
With a secret only the node that wrote the entry can compute a reference, which is all that
"who looked at my licences" needs: the node computes the caller's reference and looks it up.

The secret is per region and lives in `<data_dir>/secrets/holder-ref-<region>.key` (64 hex
characters).  Development creates it on first use; production refuses to run without one,
because a new secret silently orphans every earlier entry from its holder.  Back it up with
the database.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from license_svc.audit.entries import AuditError
from formats import algorithms as alg

_BLOCK = 64  # SM3 block size in bytes
_DOMAIN = b"holder-ref/v1\x00"


def hmac_sm3(key: bytes, message: bytes) -> bytes:
    """RFC 2104 HMAC over the algorithm layer's SM3 (pyca's HMAC is outside that layer)."""
    if len(key) > _BLOCK:
        key = alg.sm3(key)
    key = key.ljust(_BLOCK, b"\x00")
    inner = alg.sm3(bytes(b ^ 0x36 for b in key) + message)
    return alg.sm3(bytes(b ^ 0x5C for b in key) + inner)


def normalise_holder_code(code: str) -> str:
    """ID numbers end in 'X' or 'x' alike; USCCs are upper-case by definition."""
    return code.strip().upper()


@dataclass(frozen=True)
class HolderKey:
    secret: bytes

    def __post_init__(self):
        if len(self.secret) < 16:
            raise AuditError("holder reference secret shorter than 16 bytes",
                             "持证人引用密钥过短（少于 16 字节）")

    def __repr__(self) -> str:
        return "HolderKey(<secret>)"

    def reference(self, holder_code: str) -> str:
        code = normalise_holder_code(holder_code)
        if not code:
            raise AuditError("empty holder code", "持证人代码为空")
        return hmac_sm3(self.secret, _DOMAIN + code.encode("utf-8")).hex()


def secret_path(settings) -> Path:
    return Path(settings.data_dir) / "secrets" / f"holder-ref-{settings.region}.key"


def load_holder_key(settings) -> HolderKey:
    path = secret_path(settings)
    if path.exists():
        try:
            return HolderKey(bytes.fromhex(path.read_text(encoding="ascii").strip()))
        except (ValueError, UnicodeDecodeError):
            raise AuditError(f"holder reference secret {path} is not hex",
                             f"持证人引用密钥文件 {path} 不是十六进制") from None
    if settings.production:
        raise AuditError(f"missing holder reference secret {path}; provision it before start",
                         f"缺少持证人引用密钥 {path}，请在启动前配置")
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret.hex() + "\n")
    try:
        os.link(tmp, path)  # atomic and never overwrites: a concurrent first start keeps one secret
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return load_holder_key(settings)
