"""An independent RFC 9162 implementation, written from the RFC text, for the audit-tree tests
(tests/verification/test_audit_rfc9162.py checks our Merkle code against it; the service's audit
log, access log and HTTP tests check their proofs with it).

Nothing here imports our Merkle code: SM3 comes from OpenSSL through hashlib (or gmssl's
pure-Python SM3), MTH/PATH/PROOF are the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and
§2.1.4.1 over slices, and the two verifiers are §2.1.3.2 and §2.1.4.2 transcribed.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


def sm3(data: bytes) -> bytes:
    try:
        return hashlib.new("sm3", data).digest()
    except ValueError:  # OpenSSL without SM3: gmssl's own implementation
        from gmssl import sm3 as gm

        return bytes.fromhex(gm.sm3_hash(list(data)))


def rfc_leaf(data: bytes) -> bytes:
    return sm3(b"\x00" + data)


def rfc_node(left: bytes, right: bytes) -> bytes:
    return sm3(b"\x01" + left + right)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class RFCTree:
    """MTH, PATH and PROOF straight from the definitions (memoised on ranges for speed)."""

    def __init__(self, leaves: list[bytes]):
        self.hashes = tuple(rfc_leaf(x) for x in leaves)

    @lru_cache(maxsize=None)
    def mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return sm3(b"")
        if n == 1:
            return self.hashes[lo]
        k = _k(n)
        return rfc_node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def root(self, n: int) -> bytes:
        return self.mth(0, n)

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)


def rfc_verify_inclusion(leaf_hash: bytes, index: int, size: int, path: list[bytes],
                         root: bytes) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = rfc_node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = rfc_node(r, p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def rfc_verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes,
                           path: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, step by step (for 0 < first < second)."""
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = rfc_node(c, fr)
            sr = rfc_node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = rfc_node(sr, c)
        fn //= 2
        sn //= 2
    return fr == first_hash and sr == second_hash and sn == 0
