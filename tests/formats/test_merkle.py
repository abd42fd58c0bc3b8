"""The tree maths with another hash: `TreeHash` is a real parameter, every function honours it
(the SM3 default is checked against the independent RFC 9162 code in
tests/verification/test_audit_rfc9162.py)."""

import hashlib

from formats import merkle

SHA256 = merkle.TreeHash(lambda data: hashlib.sha256(data).digest())


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def stored(leaf_hashes: list[bytes]) -> dict:
    nodes: dict = {}
    for i, lh in enumerate(leaf_hashes):
        siblings = {k: nodes[k] for k in merkle.completed_parents(i)}
        for level, idx, value in merkle.new_nodes(i, lh, siblings, SHA256):
            nodes[(level, idx)] = value
    return nodes


def test_sha256_tree_of_three_by_hand():
    leaves = [h(b"\x00" + bytes([i])) for i in range(3)]
    assert [SHA256.leaf(bytes([i])) for i in range(3)] == leaves
    expected = h(b"\x01" + h(b"\x01" + leaves[0] + leaves[1]) + leaves[2])
    assert merkle.root_from_leaf_hashes(leaves, SHA256) == expected
    nodes = stored(leaves)
    assert merkle.root(3, lambda lv, ix: nodes[(lv, ix)], SHA256) == expected
    assert SHA256.empty_root == h(b"") == merkle.root(0, nodes.get, SHA256)


def test_sha256_proofs_verify_and_sm3_ones_do_not_mix():
    leaves = [SHA256.leaf(b"%d" % i) for i in range(21)]
    nodes = stored(leaves)
    get = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    roots = {n: merkle.root_from_leaf_hashes(leaves[:n], SHA256) for n in range(1, 22)}
    for m in range(21):
        proof = merkle.inclusion_path(m, 21, get, SHA256)
        assert merkle.verify_inclusion(leaves[m], m, 21, proof, roots[21], SHA256)
        if proof:
            assert not merkle.verify_inclusion(leaves[m], m, 21, proof, roots[21])  # SM3
    for m in range(1, 21):
        proof = merkle.consistency_path(m, 21, get, SHA256)
        assert merkle.verify_consistency(m, 21, roots[m], roots[21], proof, SHA256)
        assert not merkle.verify_consistency(m, 21, roots[m], roots[21], proof)
