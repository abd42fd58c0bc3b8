"""The audit tree against an independent RFC 9162 implementation written here from the RFC text.

Nothing below the "independent implementation" line imports our Merkle code: SM3 comes from
OpenSSL through hashlib (or gmssl's pure-Python SM3), MTH/PATH/PROOF are the recursive
definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 over slices, and the two verifiers are
§2.1.3.2 and §2.1.4.2 transcribed.  The service's proofs must equal the RFC's and verify here;
the service's verifiers must accept the RFC's proofs and reject altered ones.
Other tests (tests/license_svc/test_audit_*.py) import the helpers from this module.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import pytest

# ------------------------------------------------------------- independent implementation


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


SIZES = list(range(1, 71)) + [127, 128, 129, 255, 256, 257, 1000]


def sample(n: int) -> list[int]:
    """Every index for small trees; edges, powers of two and a stride for large ones."""
    if n <= 70:
        return list(range(n))
    picks = {0, 1, 2, n - 2, n - 1, n // 2, n // 2 + 1}
    p = 1
    while p < n:
        picks.update({p - 1, p, min(p + 1, n - 1)})
        p *= 2
    picks.update(range(0, n, 37))
    return sorted(i for i in picks if 0 <= i < n)


def leaves_for(n: int, seed: bytes = b"") -> list[bytes]:
    return [seed + b'{"i":%d}' % i for i in range(n)]


# --------------------------------------------------------------------- tests of our code

from formats import merkle  # noqa: E402

BIG = RFCTree(leaves_for(1000))


def _store(tree: RFCTree, n: int) -> dict:
    """Our append path: stored subtree hashes as `append` writes them."""
    nodes: dict = {}
    for i in range(n):
        siblings = {k: nodes[k] for k in merkle.completed_parents(i)}
        for level, idx, h in merkle.new_nodes(i, tree.hashes[i], siblings):
            nodes[(level, idx)] = h
    return nodes


STORE = _store(BIG, 1000)


def node(level: int, index: int) -> bytes:
    return STORE[(level, index)]


def test_independent_sm3_is_the_standard_one():
    # GB/T 32905 Appendix A example 1
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_leaf_and_node_hashing_match():
    assert merkle.leaf_hash(b"x") == rfc_leaf(b"x")
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == rfc_node(b"a" * 32, b"b" * 32)
    assert merkle.EMPTY_ROOT == sm3(b"")


@pytest.mark.parametrize("n", SIZES)
def test_roots_and_inclusion_proofs(n):
    root = BIG.root(n)
    assert merkle.root(n, node) == root
    assert merkle.root_from_leaf_hashes(BIG.hashes[:n]) == root
    for m in sample(n):
        proof = merkle.inclusion_path(m, n, node)
        assert proof == BIG.path(m, 0, n), (m, n)
        assert rfc_verify_inclusion(BIG.hashes[m], m, n, proof, root), (m, n)
        assert merkle.verify_inclusion(BIG.hashes[m], m, n, proof, root)
        # wrong leaf, wrong index, wrong size, truncated or extended proof: all rejected
        assert not merkle.verify_inclusion(BIG.hashes[(m + 1) % 1000], m, n, proof, root)
        if n > 1:
            assert not merkle.verify_inclusion(BIG.hashes[m], (m + 1) % n, n, proof, root)
            assert not merkle.verify_inclusion(BIG.hashes[m], m, n, proof[:-1], root)
        assert not merkle.verify_inclusion(BIG.hashes[m], m, n, proof + [root], root)
        if n < 1000:  # the proof for size n does not prove inclusion in the tree of size n + 1
            assert not merkle.verify_inclusion(BIG.hashes[m], m, n + 1, proof, BIG.root(n + 1)) or \
                merkle.inclusion_path(m, n + 1, node) == proof


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proofs(n):
    root = BIG.root(n)
    for m in sample(n) + [n]:
        if m == 0:
            continue
        proof = merkle.consistency_path(m, n, node)
        assert proof == BIG.proof(m, n), (m, n)
        assert merkle.verify_consistency(m, n, BIG.root(m), root, proof)
        if m < n:
            assert rfc_verify_consistency(m, n, BIG.root(m), root, proof), (m, n)
            assert not merkle.verify_consistency(m, n, BIG.root(m), BIG.root(n - 1) if n - 1 != m else b"\x00" * 32, proof)
            assert not merkle.verify_consistency(m, n, rfc_leaf(b"other"), root, proof)
            assert not merkle.verify_consistency(m, n, BIG.root(m), root, proof[:-1])
            assert not merkle.verify_consistency(m, n, BIG.root(m), root, [])


def test_every_proof_element_is_checked():
    """Flipping one bit anywhere in any proof element of a mid-size tree must break it."""
    n, m = 257, 100
    root = BIG.root(n)
    inc = merkle.inclusion_path(m, n, node)
    con = merkle.consistency_path(m, n, node)
    for i in range(len(inc)):
        bad = list(inc)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not merkle.verify_inclusion(BIG.hashes[m], m, n, bad, root)
        assert not rfc_verify_inclusion(BIG.hashes[m], m, n, bad, root)
    for i in range(len(con)):
        bad = list(con)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not merkle.verify_consistency(m, n, BIG.root(m), root, bad)


def test_compact_range_matches_mth_at_every_size():
    cr = merkle.CompactRange()
    assert cr.root() == BIG.root(0)
    for i in range(300):
        cr.append(BIG.hashes[i])
        assert cr.root() == BIG.root(i + 1)


def test_proofs_need_logarithmic_nodes():
    for n in (1000, 2**20 + 12345, 10**6):
        keys = merkle.needed_nodes(lambda nd: merkle.inclusion_path(n // 3, n, nd))
        assert len(keys) <= 2 * n.bit_length()
        keys = merkle.needed_nodes(lambda nd: merkle.consistency_path(n // 3, n, nd))
        assert len(keys) <= 3 * n.bit_length()


def test_random_trees_against_rfc():
    rnd = os.urandom
    for n in (3, 17, 100):
        tree = RFCTree([rnd(1 + i % 40) for i in range(n)])
        store = _store(tree, n)
        get = lambda lv, ix: store[(lv, ix)]  # noqa: E731
        for m in range(n):
            assert merkle.inclusion_path(m, n, get) == tree.path(m, 0, n)
        for m in range(1, n):
            assert merkle.consistency_path(m, n, get) == tree.proof(m, n)
