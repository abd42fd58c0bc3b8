"""The witness's judgement (license_svc.audit.witness.judge) without processes: it cosigns a
checkpoint only when the log's signature verifies and the tree provably extends the one it
cosigned before; fork, rollback, truncation and a bad signature are refused as incidents."""

from __future__ import annotations

import pytest

from formats import algorithms as alg
from formats import merkle
from license_svc.audit.checkpoint import NoteSigner, cosign, sign_checkpoint
from license_svc.audit.witness import Cosigned, judge
from verification.tlog import Checkpoint, NoteKey, parse_checkpoint, verify_note

ORIGIN = "licence-audit/ah"


class Tree:
    def __init__(self, leaves: list[bytes]):
        self.hashes = [merkle.leaf_hash(x) for x in leaves]

    def node(self, level: int, idx: int) -> bytes:
        return merkle.root_from_leaf_hashes(self.hashes[idx << level:(idx + 1) << level])

    def root(self, size: int) -> bytes:
        return merkle.root(size, self.node)

    def proof(self, a: int, b: int) -> list[bytes]:
        if b > len(self.hashes):
            raise LookupError("beyond the tree")  # what a truncated log answers (404)
        return merkle.consistency_path(a, b, self.node)


@pytest.fixture(scope="module")
def log_signer():
    return NoteSigner(ORIGIN, alg.generate_private_key("sm2"))


def note(signer, tree: Tree, size: int) -> bytes:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), signer)


def cosigned(tree: Tree, size: int, n: bytes) -> Cosigned:
    return Cosigned(size, tree.root(size), n.decode())


def test_first_checkpoint_is_cosigned_and_growth_along_a_proof(log_signer):
    tree = Tree([b"e%d" % i for i in range(10)])
    keys = [log_signer.verifier_key]
    first = judge(None, note(log_signer, tree, 4), keys, ORIGIN, tree.proof)
    assert first.cosign and first.checkpoint.size == 4
    grown = judge(cosigned(tree, 4, note(log_signer, tree, 4)), note(log_signer, tree, 10), keys,
                  ORIGIN, tree.proof)
    assert grown.cosign and grown.proof
    same = judge(cosigned(tree, 10, note(log_signer, tree, 10)), note(log_signer, tree, 10), keys,
                 ORIGIN, tree.proof)
    assert same.cosign


def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork(log_signer):
    a, b = Tree([b"a", b"b", b"c"]), Tree([b"a", b"b", b"X"])
    v = judge(cosigned(a, 3, note(log_signer, a, 3)), note(log_signer, b, 3),
              [log_signer.verifier_key], ORIGIN, b.proof)
    assert not v.cosign and v.kind == "fork"


def test_a_grown_tree_with_another_history_is_a_fork(log_signer):
    a = Tree([b"a", b"b", b"c"])
    b = Tree([b"a", b"b", b"X", b"d", b"e"])
    v = judge(cosigned(a, 3, note(log_signer, a, 3)), note(log_signer, b, 5),
              [log_signer.verifier_key], ORIGIN, b.proof)
    assert not v.cosign and v.kind == "fork"


def test_an_older_checkpoint_served_again_is_a_rollback(log_signer):
    tree = Tree([b"e%d" % i for i in range(8)])
    v = judge(cosigned(tree, 8, note(log_signer, tree, 8)), note(log_signer, tree, 5),
              [log_signer.verifier_key], ORIGIN, tree.proof)
    assert not v.cosign and v.kind == "rollback"


def test_a_log_cut_back_is_a_truncation(log_signer):
    full = Tree([b"e%d" % i for i in range(8)])
    cut = Tree([b"e%d" % i for i in range(5)])
    v = judge(cosigned(full, 8, note(log_signer, full, 8)), note(log_signer, cut, 5),
              [log_signer.verifier_key], ORIGIN, cut.proof)
    assert not v.cosign and v.kind == "truncation"


def test_a_signature_that_fails_is_an_incident_an_unknown_key_is_not(log_signer):
    tree = Tree([b"a", b"b"])
    good = note(log_signer, tree, 2)
    cp = parse_checkpoint(good)
    sig = cp.note.signatures[0]
    forged = good.replace(good.split(b" ")[-1], __import__("base64").b64encode(
        sig.key_id + bytes(len(sig.signature))) + b"\n")
    v = judge(None, forged, [log_signer.verifier_key], ORIGIN, tree.proof)
    assert not v.cosign and v.kind == "bad-signature"
    stranger = NoteSigner(ORIGIN, alg.generate_private_key("sm2"))
    v = judge(None, note(stranger, tree, 2), [log_signer.verifier_key], ORIGIN, tree.proof)
    assert not v.cosign and v.kind is None


def test_a_cosigned_note_still_verifies_for_readers_that_ignore_witnesses(log_signer):
    tree = Tree([b"a"])
    witness = NoteSigner("licence-audit-witness/sh", alg.generate_private_key("sm2"))
    both = cosign(note(log_signer, tree, 1), witness)
    cp = parse_checkpoint(both)
    assert verify_note(cp.note, [log_signer.verifier_key]) == ([ORIGIN], [])
    assert verify_note(cp.note, [witness.verifier_key]) == (["licence-audit-witness/sh"], [])
    assert NoteKey(ORIGIN, log_signer.spki).key_id != witness.verifier_key.key_id


def _bundle(tree: Tree, size: int, notes: list[bytes]):
    import base64

    from verification.audit import ExportBundle

    leaves = [{"index": i, "leaf": base64.b64encode(b"%d" % i).decode()} for i in range(size)]
    hashes = [{"index": i, "hash": base64.b64encode(h).decode()}
              for i, h in enumerate(tree.hashes[:size])]
    return ExportBundle({"origin": ORIGIN, "log_keys": []}, notes, [],
                        lambda: iter(leaves), lambda: iter(hashes))


def test_verify_export_counts_witnesses_of_other_regions_on_the_final_checkpoint(log_signer):
    from verification.audit import verify_export

    tree = Tree([b"%d" % i for i in range(4)])  # JSON leaves
    ws = {r: NoteSigner(f"licence-audit-witness/{r}", alg.generate_private_key("sm2"))
          for r in ("sh", "js", "ah")}
    wkeys = [w.verifier_key for w in ws.values()]
    final = note(log_signer, tree, 4)
    own_and_one = cosign(cosign(final, ws["ah"]), ws["sh"])   # ah may not witness itself
    two = cosign(cosign(final, ws["js"]), ws["sh"])
    keys = [log_signer.verifier_key]
    weak = verify_export(_bundle(tree, 4, [note(log_signer, tree, 2), own_and_one]), keys,
                         witness_keys=wkeys, min_witnesses=2)
    assert weak.indication != "TOTAL_PASSED"
    assert not weak.check("audit.witness_cosignatures").passed
    # cosignatures on an older checkpoint do not count for the final one
    old_cosigned = cosign(cosign(note(log_signer, tree, 2), ws["js"]), ws["sh"])
    stale = verify_export(_bundle(tree, 4, [old_cosigned, final]), keys, witness_keys=wkeys,
                          min_witnesses=2)
    assert not stale.check("audit.witness_cosignatures").passed
    good = verify_export(_bundle(tree, 4, [note(log_signer, tree, 2), two]), keys,
                         witness_keys=wkeys, min_witnesses=2)
    assert good.indication == "TOTAL_PASSED", good.to_text()


def test_the_log_refuses_cosignatures_it_cannot_check(http, log_signer):
    """Public route: garbage, a checkpoint this log never signed, or a line no other region's
    witness key verifies are all refused, and nothing is stored."""
    assert http.post("/api/v1/audit/cosignature", content=b"not a note").status_code == 400
    tree = Tree([b"1"])
    witness = NoteSigner("licence-audit-witness/js", alg.generate_private_key("sm2"))
    foreign = cosign(note(log_signer, tree, 1), witness)
    r = http.post("/api/v1/audit/cosignature", content=foreign)
    assert r.status_code == 400 and r.json()["type"].endswith("audit-witness"), r.text
