"""The audit tree against an independent RFC 9162 implementation written from the RFC text
(tests/support/rfc9162.py, which imports none of our Merkle code; the service's audit tests use it
too).  The service's proofs must equal the RFC's and verify there; the service's verifiers must
accept the RFC's proofs and reject altered ones.
"""

from __future__ import annotations

import os

import pytest

from tests.support.rfc9162 import (RFCTree, rfc_leaf, rfc_node, rfc_verify_consistency,
                                   rfc_verify_inclusion, sm3)

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
