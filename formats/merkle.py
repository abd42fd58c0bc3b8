"""Merkle-tree maths of the audit log (RFC 9162 §2.1 with SM3): hashes, roots, proofs built
and checked.

Why here, below both sides: the log that builds proofs (`license_svc.audit`) and the auditor
who checks them offline (`verification.audit`) must hash alike to the bit, and neither may need
the other.  The hash function is a parameter (`TreeHash`) with SM3 the default, so the same code
runs RFC 9162's SHA-256 test vectors.

leaf hash = H(0x00 ‖ leaf bytes), node hash = H(0x01 ‖ left ‖ right), the root of an empty tree
= H(""), and MTH over n leaves splits at k = the largest power of two smaller than n.

Building reads stored subtree hashes: the store keeps the hash of every *perfect* subtree,
addressed as (level, index): the subtree of 2**level leaves starting at leaf index << level.
Every range that RFC 9162's recursive definitions (MTH, PATH, SUBPROOF) visit starts at a
multiple of its largest power-of-two part, so each is either one stored node or the hash of a
perfect left part and a shorter right part; a root, a path or a proof therefore needs O(log n)
stored nodes and never rehashes the log.  Those functions take `node(level, index) -> bytes`;
`needed_nodes` runs the same code with a recording oracle, so a caller can fetch every node a
proof needs in one query, then compute.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from formats import algorithms as alg

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

NodeKey = tuple[int, int]
NodeOracle = Callable[[int, int], bytes]


class TreeHash:
    """RFC 9162's leaf and node hashes over one hash function `digest(bytes) -> bytes`.

    `leaf` and `node` are plain closures, not methods: they run once per appended entry and
    O(log n) times per proof, and a closure call costs less than a method's attribute lookups
    (the parameter must not slow the audit path down)."""

    __slots__ = ("digest", "size", "empty_root", "leaf", "node")

    def __init__(self, digest: Callable[[bytes], bytes]):
        def leaf(data: bytes) -> bytes:
            return digest(LEAF_PREFIX + data)

        def node(left: bytes, right: bytes) -> bytes:
            return digest(NODE_PREFIX + left + right)

        self.digest, self.leaf, self.node = digest, leaf, node
        self.empty_root = digest(b"")
        self.size = len(self.empty_root)


SM3 = TreeHash(alg.sm3)
HASH_SIZE = SM3.size
EMPTY_ROOT = SM3.empty_root
leaf_hash = SM3.leaf
node_hash = SM3.node


def split_point(n: int) -> int:
    """k of RFC 9162: the largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# ------------------------------------------------------------------ checking (no stored nodes)

class CompactRange:
    """The perfect subtrees covering leaves [0, size): enough to get the root at every size
    while streaming a log once, in O(log n) memory (what an offline verifier of 10^6 entries
    needs)."""

    def __init__(self, tree_hash: TreeHash = SM3) -> None:
        self.size = 0
        self._hash = tree_hash
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes decreasing

    def append(self, leaf_hash_value: bytes) -> None:
        node = self._hash.node
        size, h = 1, leaf_hash_value
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, h = size + left_size, node(left, h)
        self._stack.append((size, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return self._hash.empty_root
        root = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            root = self._hash.node(h, root)
        return root


def root_from_leaf_hashes(hashes: Iterable[bytes], tree_hash: TreeHash = SM3) -> bytes:
    cr = CompactRange(tree_hash)
    for h in hashes:
        cr.append(h)
    return cr.root()


def verify_inclusion(leaf_hash_value: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes, tree_hash: TreeHash = SM3) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf `index` in the tree of `size` with `root`?

    The leaf hash must be a hash of this tree's size: otherwise an empty leaf "hash" and an
    empty root would prove each other at size 1 (transparency-dev/merkle's "empty root and
    leaf" vector)."""
    if not (0 <= index < size) or len(leaf_hash_value) != tree_hash.size \
            or any(len(p) != tree_hash.size for p in proof):
        return False
    node = tree_hash.node
    fn, sn, r = index, size - 1, leaf_hash_value
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes], tree_hash: TreeHash = SM3) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (size2, root2) an append-only extension of (size1, root1)?

    Equal sizes need equal roots and an empty proof.  A proof from size 0 proves nothing, so
    none is accepted, whatever the roots (as transparency-dev/merkle, whose test vectors run
    against this function); a caller whose old tree may be empty asks `extends`."""
    if not (0 < size1 <= size2) or any(len(p) != tree_hash.size for p in proof):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    path = list(proof)
    if not path:
        return False
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is itself a node
        path.insert(0, root1)
    node = tree_hash.node
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == root1 and sr == root2 and sn == 0


def extends(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes],
            tree_hash: TreeHash = SM3) -> bool:
    """Is (size2, root2) an append-only extension of the signed tree (size1, root1)?

    `verify_consistency`, plus the one case it leaves out: a log whose last checkpoint was the
    empty tree must still grow.  Every tree extends the empty tree, but only the real one (root
    H(""), no proof): a "size 0" tree with another root is a forgery, not a start."""
    if size1 == 0:
        return (size2 >= 0 and not proof and root1 == tree_hash.empty_root
                and (size2 > 0 or root2 == root1))
    return verify_consistency(size1, size2, root1, root2, proof, tree_hash)


# ------------------------------------------------------------------- building (stored nodes)

def range_hash(start: int, end: int, node: NodeOracle, tree_hash: TreeHash = SM3) -> bytes:
    """MTH(D[start:end]) for a range the RFC 9162 recursion produces (see module docstring)."""
    n = end - start
    if n == 0:
        return tree_hash.empty_root
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = split_point(n)
    return tree_hash.node(range_hash(start, start + k, node, tree_hash),
                          range_hash(start + k, end, node, tree_hash))


def root(size: int, node: NodeOracle, tree_hash: TreeHash = SM3) -> bytes:
    return range_hash(0, size, node, tree_hash)


def inclusion_path(index: int, size: int, node: NodeOracle,
                   tree_hash: TreeHash = SM3) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, node, tree_hash))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node, tree_hash))
            start += k
    path.reverse()
    return path


def consistency_path(size1: int, size2: int, node: NodeOracle,
                     tree_hash: TreeHash = SM3) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 §2.1.4.1; empty when size1 is 0 or equals size2."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from {size1} to {size2}")
    if size1 == 0 or size1 == size2:
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, size2, size1, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append(range_hash(start + k, end, node, tree_hash))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, node, tree_hash))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(range_hash(start, end, node, tree_hash))
    proof.reverse()
    return proof


def needed_nodes(compute: Callable[[NodeOracle], object],
                 tree_hash: TreeHash = SM3) -> set[NodeKey]:
    """The stored nodes `compute(node)` reads, found by running it on placeholder hashes (of
    the tree's hash size, so a `compute` that checks lengths sees well-formed ones)."""
    keys: set[NodeKey] = set()

    def record(level: int, index: int) -> bytes:
        keys.add((level, index))
        return bytes(tree_hash.size)

    compute(record)
    return keys


def frontier(size: int) -> set[NodeKey]:
    """The perfect subtrees covering leaves [0, size): (level, index) per 1-bit of size."""
    return {(level, (size >> level) - 1) for level in range(size.bit_length()) if (size >> level) & 1}


def completed_parents(index: int) -> list[NodeKey]:
    """Appending leaf `index` completes one perfect subtree per trailing 1-bit of `index`:
    returns their left children (level, index) in ascending level; the right children are
    the leaf itself and the parents just made."""
    lefts = []
    level = 0
    while (index >> level) & 1:
        lefts.append((level, (index >> level) - 1))
        level += 1
    return lefts


def new_nodes(index: int, leaf: bytes, left_siblings: dict[NodeKey, bytes],
              tree_hash: TreeHash = SM3) -> list[tuple[int, int, bytes]]:
    """(level, index, hash) rows to store after appending leaf `index` with hash `leaf`."""
    node = tree_hash.node
    rows = [(0, index, leaf)]
    h = leaf
    for level, left_index in completed_parents(index):
        h = node(left_siblings[(level, left_index)], h)
        rows.append((level + 1, left_index >> 1, h))
    return rows
