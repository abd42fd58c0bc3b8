"""Other people's signed files through our verifier: PDFs from pyHanko's test data (genuine ones,
and the ones its authors built to be caught: uncovered tails, bogus byte ranges, sneaky form
updates), OFD packages, seals and signatures from ofdrw, and four copies we damaged ourselves.

tests/corpus/expected.json holds, per run (a file, the moment it is judged at, the trust), what a
correct verifier says: indication, sub-indication and every check that fails, with the
failure.  Genuine files whose signer is not in our trust are INDETERMINATE NO_CERTIFICATE_CHAIN
_FOUND; with pyHanko's test CA trusted (tests/corpus/cert) pyHanko's genuine PDFs pass.  For PDFs,
pyHanko's own validator (same trust, same moment) is run beside ours and its verdict must stay the
recorded one; where we differ on purpose, docs/verification.md "Corpus" says why.

Entries marked "pending" are the verdict after another engineer's fix that is not merged here
(named in the entry): for them only indication, sub-indication and the named failing checks are
compared, and the test is xfail(strict=True) — it must fail now and is flipped after the merge.
Provenance and licences: tests/corpus/SOURCES.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from pathlib import Path

import pytest
from asn1crypto import pem, x509

from verification import dispatch
from verification.qr import QrTrust
from verification.seal import SealTrust

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
CORPUS_DIRS = ("pdf", "ofd", "seal", "cert")


def _certs(name: str) -> list[x509.Certificate]:
    data = (HERE / "cert" / name).read_bytes()
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]


def _roots(trust: str | None) -> list[x509.Certificate]:
    """The roots of a named trust setting (the signatures carry their intermediates)."""
    if trust is None:
        return []
    assert trust == "pyhanko-testing-ca", trust
    return _certs("pyhanko-testing-ca-root.pem")


def _at(entry) -> datetime:
    return datetime.fromisoformat(entry["at"])


def our_verdict(entry) -> dict:
    roots = _roots(entry["trust"])
    trust = dispatch.Trust(qr=QrTrust(), seal=SealTrust(signer_roots=roots, tsa_roots=roots,
                                                         seal_maker_roots=roots))
    try:
        report = dispatch.verify_bytes((HERE / entry["file"]).read_bytes(), trust, _at(entry))
    except dispatch.UnreadableInput:  # exit 3: "not something we verify" (never right for these)
        return {"indication": "UNREADABLE_INPUT", "sub_indication": None, "failed": {}}
    return {"indication": report.indication, "sub_indication": report.sub_indication,
            "failed": {c.name: c.failure for c in report.checks if not c.passed}}


def pyhanko_verdict(entry) -> dict:
    """pyHanko's validator, default settings, on each embedded signature: its bottom line and
    the facts it rests on — or the exception's name where pyHanko refuses the file."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    roots = _roots(entry["trust"])
    out: dict = {}
    logging.disable(logging.CRITICAL)  # pyHanko logs every untrusted path as an error
    try:
        reader = PdfFileReader(io.BytesIO((HERE / entry["file"]).read_bytes()), strict=False)
        sigs = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - the refusal itself is the verdict
        return {"*": type(exc).__name__}
    finally:
        logging.disable(logging.NOTSET)
    for sig in sigs:
        vc = ValidationContext(trust_roots=roots, allow_fetching=False, moment=_at(entry))
        logging.disable(logging.CRITICAL)
        try:
            if sig.sig_object_type == "/DocTimeStamp":
                st = validate_pdf_timestamp(sig, validation_context=vc)
            else:
                st = validate_pdf_signature(sig, vc)
            level = getattr(st, "modification_level", None)
            out[sig.field_name] = {
                "bottom_line": getattr(st, "bottom_line", st.intact and st.valid and st.trusted),
                "intact": st.intact, "valid": st.valid,
                "trusted": st.trusted, "coverage": st.coverage.name,
                "modification_level": level.name if level else None,
                "docmdp_ok": getattr(st, "docmdp_ok", None)}
        except Exception as exc:  # noqa: BLE001
            out[sig.field_name] = type(exc).__name__
        finally:
            logging.disable(logging.NOTSET)
    return out


def _params(entries):
    for e in entries:
        marks = [pytest.mark.xfail(strict=True, reason=f"pending: {e['pending']}")] \
            if e.get("pending") else []
        yield pytest.param(e, id=e["id"], marks=marks)


@pytest.mark.parametrize("entry", list(_params(EXPECTED)))
def test_our_verdict(entry):
    got = our_verdict(entry)
    if entry.get("pending"):
        assert (got["indication"], got["sub_indication"]) == (entry["indication"],
                                                              entry["sub_indication"])
        for name, failure in entry["failed"].items():
            assert got["failed"].get(name) == failure, (name, got)
    else:
        assert got == {k: entry[k] for k in ("indication", "sub_indication", "failed")}


@pytest.mark.parametrize("entry", [e for e in EXPECTED if "pyhanko" in e], ids=lambda e: e["id"])
def test_pyhankos_verdict_beside_ours(entry):
    assert pyhanko_verdict(entry) == entry["pyhanko"]


def test_every_pdf_run_records_pyhankos_verdict():
    assert all("pyhanko" in e for e in EXPECTED if e["file"].startswith("pdf/"))


def test_the_expectations_mean_what_they_say():
    """Genuine files pass or stop at trust, never fail; manipulated and broken ones never pass,
    nor do genuine ones our licence policy refuses ("policy": form filling after a signature);
    run ids are unique; every file is judged at least once."""
    assert len({e["id"] for e in EXPECTED}) == len(EXPECTED)
    for e in EXPECTED:
        assert e["kind"] in ("genuine", "policy", "manipulated", "broken"), e["id"]
        if e["kind"] == "genuine":
            assert e["indication"] != "TOTAL_FAILED", e["id"]
        else:
            assert e["indication"] != "TOTAL_PASSED" and e["failed"], e["id"]
        assert e.get("why"), e["id"]
    files = {str(p.relative_to(HERE)) for d in CORPUS_DIRS for p in (HERE / d).iterdir()
             if not p.name.startswith("LICENSE")}
    judged = {e["file"] for e in EXPECTED}
    assert files - judged == {str(Path("cert") / "pyhanko-testing-ca-root.pem")}
    assert judged <= files


def test_every_file_has_its_source_and_the_corpus_stays_small():
    rows = [line.split(" | ") for line in (HERE / "SOURCES").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    listed = {r[0].strip() for r in rows}
    assert all(len(r) == 6 and r[3].strip() and r[4].strip() for r in rows), "6 columns each"
    total = 0
    for d in CORPUS_DIRS:
        for p in (HERE / d).iterdir():
            total += p.stat().st_size
            assert str(p.relative_to(HERE)) in listed, p
    assert total < 15 * 1024 * 1024


def test_the_command_line_with_a_trust_root(tmp_path):
    """What a clerk outside our federation types: `license-svc verify --trust-root ROOT.pem`
    on a genuine foreign PDF must pass (exit 0), with nothing else configured."""
    import subprocess
    import sys

    from tests.support.nodes import child_env

    entry = next(e for e in EXPECTED if e["id"] == "pyhanko-pades-with-old-style-signing-cert-attr")
    root = HERE / "cert" / "pyhanko-testing-ca-root.pem"
    run = subprocess.run(
        [sys.executable, "-m", "license_svc", "verify", str(HERE / entry["file"]), "--json",
         "--at", entry["at"], "--trust-root", str(root)],
        capture_output=True, env=child_env(), cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert json.loads(run.stdout)["indication"] == entry["indication"]
