"""Tree maths over stored subtree hashes: roots, inclusion and consistency proofs in O(log n).

The store keeps the hash of every *perfect* subtree, addressed as (level, index): the subtree
of 2**level leaves starting at leaf index << level.  Every range that RFC 9162's recursive
definitions (MTH, PATH, SUBPROOF) visit starts at a multiple of its largest power-of-two part,
so each is either one stored node or the hash of a perfect left part and a shorter right part;
a root, a path or a proof therefore needs O(log n) stored nodes and never rehashes the log.

Functions take `node(level, index) -> bytes`.  `needed_nodes` runs the same code with a
recording oracle, so a caller can fetch every node a proof needs in one query, then compute.
Hashing itself (leaf/node prefixes, SM3) is defined once in `verification.tlog`.
"""

from __future__ import annotations

from typing import Callable

from verification.tlog import EMPTY_ROOT, HASH_SIZE, node_hash, split_point

NodeKey = tuple[int, int]
NodeOracle = Callable[[int, int], bytes]


def range_hash(start: int, end: int, node: NodeOracle) -> bytes:
    """MTH(D[start:end]) for a range the RFC 9162 recursion produces (see module docstring)."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = split_point(n)
    return node_hash(range_hash(start, start + k, node), range_hash(start + k, end, node))


def root(size: int, node: NodeOracle) -> bytes:
    return range_hash(0, size, node)


def inclusion_path(index: int, size: int, node: NodeOracle) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(range_hash(start, start + k, node))
            start += k
    path.reverse()
    return path


def consistency_path(size1: int, size2: int, node: NodeOracle) -> list[bytes]:
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
            proof.append(range_hash(start + k, end, node))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, node))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(range_hash(start, end, node))
    proof.reverse()
    return proof


def needed_nodes(compute: Callable[[NodeOracle], object]) -> set[NodeKey]:
    """The stored nodes `compute(node)` reads, found by running it on placeholder hashes."""
    keys: set[NodeKey] = set()

    def record(level: int, index: int) -> bytes:
        keys.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return keys


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


def new_nodes(index: int, leaf: bytes, left_siblings: dict[NodeKey, bytes]) -> list[tuple[int, int, bytes]]:
    """(level, index, hash) rows to store after appending leaf `index` with hash `leaf`."""
    rows = [(0, index, leaf)]
    h = leaf
    for level, left_index in completed_parents(index):
        h = node_hash(left_siblings[(level, left_index)], h)
        rows.append((level + 1, left_index >> 1, h))
    return rows
