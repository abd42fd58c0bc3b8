"""The transparency-log maths and checkpoint parser against other people's data: transparency-dev/
merkle's proof vectors (SHA-256, RFC 6962 hashing) run through the very functions the SM3 audit
log uses, and the signed notes and checkpoints printed in the C2SP specs and golang.org/x/mod's
note tests must parse.  Where the note is Ed25519 and its verifier key is published, this test
checks the signature over the text our parser extracted (with `cryptography` — here, in a test;
the service only parses and checks structure of notes that are not SM2, since only
formats/algorithms/ may call crypto primitives and it has no Ed25519).  Sources: tests/corpus/SOURCES.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from formats import merkle
from verification import tlog

HERE = Path(__file__).parent / "tlog"
VECTORS = HERE / "transparency-dev"
NOTES = HERE / "notes"
SHA256 = merkle.TreeHash(lambda data: hashlib.sha256(data).digest())


def _b64(s: str | None) -> bytes:
    return base64.b64decode(s) if s else b""


def _vectors(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS).with_suffix(""))


def test_the_vectors_are_all_there():
    # 5 happy paths with their corruptions plus the edge cases: a lost file must not pass silently
    assert len(_vectors("inclusion")) == 98 and len(_vectors("consistency")) == 98


@pytest.mark.parametrize("path", _vectors("inclusion"), ids=_id)
def test_transparency_dev_inclusion_vector(path):
    v = json.loads(path.read_text())
    ok = merkle.verify_inclusion(_b64(v["leafHash"]), v["leafIdx"], v["treeSize"],
                                 [_b64(p) for p in v["proof"] or []], _b64(v["root"]), SHA256)
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _vectors("consistency"), ids=_id)
def test_transparency_dev_consistency_vector(path):
    v = json.loads(path.read_text())
    ok = merkle.verify_consistency(v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]),
                                   [_b64(p) for p in v["proof"] or []], SHA256)
    assert ok is not v["wantErr"], v["desc"]


# RFC 6962's test leaves, as transparency-dev/merkle testonly/constants.go LeafInputs() lists them
RFC6962_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]


def _sha256_store() -> dict:
    nodes: dict = {}
    for i, leaf in enumerate(RFC6962_LEAVES):
        siblings = {k: nodes[k] for k in merkle.completed_parents(i)}
        for level, idx, value in merkle.new_nodes(i, SHA256.leaf(leaf), siblings, SHA256):
            nodes[(level, idx)] = value
    return nodes


def test_we_build_the_happy_path_proofs_of_the_vectors():
    """The building side too: our stored-node code, with SHA-256, makes exactly their roots and
    proofs (the verifier vectors alone would not notice a builder that disagreed)."""
    nodes = _sha256_store()
    node = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    for path in VECTORS.glob("inclusion/[0-9]/happy-path.json"):
        v = json.loads(path.read_text())
        assert merkle.root(v["treeSize"], node, SHA256) == _b64(v["root"])
        assert SHA256.leaf(RFC6962_LEAVES[v["leafIdx"]]) == _b64(v["leafHash"])
        assert merkle.inclusion_path(v["leafIdx"], v["treeSize"], node, SHA256) == \
            [_b64(p) for p in v["proof"] or []]
    for path in VECTORS.glob("consistency/[0-9]/happy-path.json"):
        v = json.loads(path.read_text())
        assert merkle.root(v["size1"], node, SHA256) == _b64(v["root1"])
        assert merkle.consistency_path(v["size1"], v["size2"], node, SHA256) == \
            [_b64(p) for p in v["proof"] or []]


def test_the_empty_tree_is_extended_only_with_its_real_root():
    """`extends` is what the log, the witness and the offline auditor ask: a tree grown from an
    empty checkpoint is fine, a "size 0" checkpoint with a made-up root is not."""
    for th in (merkle.SM3, SHA256):
        some = th.leaf(b"x")
        assert merkle.extends(0, 5, th.empty_root, some, [], th)
        assert merkle.extends(0, 0, th.empty_root, th.empty_root, [], th)
        assert not merkle.extends(0, 5, some, some, [], th)                  # forged empty tree
        assert not merkle.extends(0, 5, th.empty_root, some, [some], th)     # a "proof" from 0
        assert not merkle.extends(0, 0, th.empty_root, some, [], th)
        assert not merkle.verify_consistency(0, 5, th.empty_root, some, [], th)
    nodes = _sha256_store()
    node = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    proof = merkle.consistency_path(3, 8, node, SHA256)
    r3, r8 = merkle.root(3, node, SHA256), merkle.root(8, node, SHA256)
    assert merkle.extends(3, 8, r3, r8, proof, SHA256)
    assert not merkle.extends(3, 8, r3, r8, proof)  # the SM3 default does not take SHA-256 proofs


def test_sm3_proofs_are_byte_identical_to_before():
    """The SM3 audit log's roots and proofs did not move: a digest over every root, inclusion
    and consistency proof of trees of 0..40 leaves, recorded from main before this change."""
    leaves = [merkle.leaf_hash(b'{"i":%d}' % i) for i in range(40)]
    nodes: dict = {}
    for i, lh in enumerate(leaves):
        siblings = {k: nodes[k] for k in merkle.completed_parents(i)}
        for level, idx, h in merkle.new_nodes(i, lh, siblings):
            nodes[(level, idx)] = h
    node = lambda lv, ix: nodes[(lv, ix)]  # noqa: E731
    d = hashlib.sha256()
    for n in range(41):
        d.update(merkle.root(n, node))
        for k in range(n):
            d.update(b"".join(merkle.inclusion_path(k, n, node)))
        for k in range(1, n + 1):
            d.update(b"".join(merkle.consistency_path(k, n, node)))
    assert d.hexdigest() == "5291846f98d7b58d98f8af9d05aa27ce9116be9efacc8dfc30bf85ae7387e556"
    body = tlog.Checkpoint("licence-audit/sh", 11, merkle.root(11, node)).body()
    assert body == "licence-audit/sh\n11\nlVVfzG3dUErYO0mX28/7DsFKi1XIlmLFZu4MSdA0siY=\n"


# ----------------------------------------------------------------------------- signed notes

def _ed25519_vkey(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """name+hex(key ID)+base64(0x01 ‖ key) of c2sp.org/signed-note, key ID checked as the spec
    recommends: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]."""
    name, key_id, blob = vkey.strip().split("+")
    raw = base64.b64decode(blob)
    assert raw[0] == 0x01 and len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4] == bytes.fromhex(key_id)
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


@pytest.mark.parametrize("note_file,vkey_files", [
    ("c2sp-signed-note-example-foo.note", ["c2sp-signed-note-example-foo.vkey"]),
    ("go-note-peter-enoch.note", ["go-note-peter.vkey", "go-note-enoch.vkey"]),
])
def test_published_ed25519_notes_parse_to_the_signed_text(note_file, vkey_files):
    note = tlog.parse_note((NOTES / note_file).read_bytes())
    by_name = {s.name: s for s in note.signatures}
    for vkey_file in vkey_files:
        name, key_id, key = _ed25519_vkey((NOTES / vkey_file).read_text())
        sig = by_name[name]
        assert sig.key_id == key_id
        key.verify(sig.signature, note.text.encode("utf-8"))  # raises if the text is not exact
    assert len(note.signatures) == len(vkey_files)


def test_a_note_text_may_hold_blank_lines():
    note = tlog.parse_note((NOTES / "c2sp-signed-note-quasimodo.note").read_bytes())
    assert note.text.endswith("sole:\n\ned è subito sera.\n")
    assert [s.name for s in note.signatures] == ["quasimodo.example/salvatore"]


def test_the_c2sp_checkpoint_example():
    data = (NOTES / "c2sp-tlog-checkpoint-behind-the-sofa.note").read_bytes()
    cp = tlog.parse_checkpoint(data)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert base64.b64encode(cp.root) == b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    # no key is published for it: unknown signatures are ignored, so nothing verifies
    assert not tlog.verify_checkpoint(data, []).ok


GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


def test_the_go_sumdb_tree_text():
    """golang.org/x/mod/sumdb/tlog note_test.go: its tree note is a tlog checkpoint whose root is
    RecordHash("hello world") = SHA-256(0x00 ‖ data), i.e. our SHA-256 TreeHash's leaf."""
    cp = tlog.parse_checkpoint_text(GO_TREE)
    assert cp.size == 123456789012 and cp.root == SHA256.leaf(b"hello world")
    # Go ignores junk after the tree; tlog-checkpoint makes it extension lines (non-empty ones)
    assert tlog.parse_checkpoint_text(GO_TREE + "JOE\n").extensions == ("JOE",)
    # Go's "not-" origin is a sumdb rule; tlog-checkpoint lets clients assume nothing of origins
    assert tlog.parse_checkpoint_text("not-" + GO_TREE).origin == "not-go.sum database tree"
    for bad in (GO_TREE.replace("123456789012", "0xabcdef"),  # Go's other two bad trees
                GO_TREE.replace("Bb0=", "TOOBIG="),
                GO_TREE[:-1]):                                # and a text without its newline
        with pytest.raises(tlog.NoteFormatError):
            tlog.parse_checkpoint_text(bad)


def _signed_sofa() -> bytes:
    return (NOTES / "c2sp-tlog-checkpoint-behind-the-sofa.note").read_bytes()


def test_what_the_specs_forbid_is_refused_with_the_reason():
    sofa = _signed_sofa()
    text, sigs = sofa.split(b"\n\n")
    cases = {
        # a blank line after the signatures: the last blank line would leave no signature
        sofa + b"\n": "ends in a blank line",
        # an empty line closing the checkpoint text: extension lines MUST be non-empty
        text + b"\n\n\n" + sigs: "empty line",
        text + b"\nextension\n\n\n" + sigs: "empty line",
        # Go's note.Open rejects a signature line without its newline and a stray line after
        sofa[:-1]: "newline",
        sofa + b"Unexpected line.\n": "signature line",
    }
    for data, reason in cases.items():
        with pytest.raises(tlog.NoteFormatError) as exc:
            tlog.parse_checkpoint(data)
        assert reason in str(exc.value), (data, str(exc.value))
        assert not tlog.verify_checkpoint(data, []).ok
    # allowed: a non-empty extension line, and sixteen signatures of post-quantum size
    assert tlog.parse_checkpoint(text + b"\nextension\n\n" + sigs).extensions == ("extension",)
    big = "".join(f"\u2014 w{i}.example/witness {base64.b64encode(bytes(4) + bytes(4627)).decode()}\n"
                  for i in range(16)).encode()
    assert len(tlog.parse_checkpoint(sofa + big).note.signatures) == 17


def test_a_witness_that_cosigned_the_empty_tree_cosigns_its_growth():
    """Callers of the stricter proof check: the witness (and the offline auditor, both via
    `merkle.extends`) must still let a log grow from an empty checkpoint, and must not treat a
    forged "size 0" root as one."""
    from formats import algorithms as alg
    from license_svc.audit.checkpoint import NoteSigner, sign_checkpoint
    from license_svc.audit.witness import Cosigned, judge

    origin = "licence-audit/zj"
    signer = NoteSigner(origin, alg.generate_private_key("sm2"))
    hashes = [merkle.leaf_hash(b"e%d" % i) for i in range(5)]
    root5 = merkle.root_from_leaf_hashes(hashes)
    note5 = sign_checkpoint(tlog.Checkpoint(origin, 5, root5), signer)
    proof_for = lambda a, b: []  # noqa: E731 - RFC 9162 has no proof from size 0
    keys = [signer.verifier_key]
    empty = sign_checkpoint(tlog.Checkpoint(origin, 0, merkle.EMPTY_ROOT), signer).decode()
    assert judge(Cosigned(0, merkle.EMPTY_ROOT, empty), note5, keys, origin, proof_for).cosign
    forged = sign_checkpoint(tlog.Checkpoint(origin, 0, root5), signer).decode()
    verdict = judge(Cosigned(0, root5, forged), note5, keys, origin, proof_for)
    assert not verdict.cosign and verdict.kind == "fork"


def test_the_offline_auditor_takes_an_empty_first_checkpoint_only_with_the_empty_root():
    """`license-svc audit verify` (verification.audit) on an export whose first checkpoint is the
    empty tree: consistent with the real empty root, a fork with any other."""
    from formats import algorithms as alg
    from license_svc.audit.checkpoint import NoteSigner, sign_checkpoint
    from verification.audit import ExportBundle, verify_export

    origin = "licence-audit/zj"
    signer = NoteSigner(origin, alg.generate_private_key("sm2"))
    leaves = [b'{"i":%d}' % i for i in range(5)]
    hashes = [merkle.leaf_hash(x) for x in leaves]
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731

    def export(first_root: bytes) -> ExportBundle:
        notes = [sign_checkpoint(tlog.Checkpoint(origin, 0, first_root), signer),
                 sign_checkpoint(tlog.Checkpoint(origin, 5, merkle.root_from_leaf_hashes(hashes)),
                                 signer)]
        return ExportBundle(
            manifest={"origin": origin, "size": 5,
                      "log_keys": [{"name": origin, "spki": b64(signer.spki)}]},
            checkpoints=notes, consistency=[{"from": 0, "to": 5, "hashes": []}],
            entries=lambda: iter([{"index": i, "leaf": b64(x)} for i, x in enumerate(leaves)]),
            leaf_hashes=lambda: iter([{"index": i, "hash": b64(h)} for i, h in enumerate(hashes)]))

    good = verify_export(export(merkle.EMPTY_ROOT), [signer.verifier_key])
    assert good.indication == "TOTAL_PASSED", good.to_text()
    forged = verify_export(export(hashes[0]), [signer.verifier_key])
    assert not forged.check("audit.checkpoint_consistency").passed
    assert forged.indication == "TOTAL_FAILED"
