"""The parsers bench/fuzz.py drives, one `Target` each: how to build what it needs once (trust
material from keys_dev, an in-process node for the API), how to run one input, which exceptions
are the documented refusals, and — where every byte of the input is covered by a signature — what
the input *means*, so that a mutated input that passes is caught.

A finding is (1) any exception other than the target's documented error types, (2) a verifier's
own last-line guard firing (a check named `*.internal` / `*.verifier` failed: the verifier caught
an exception of its own), (3) an HTTP 5xx from the API, (4) TOTAL_PASSED for an input whose
meaning differs from every seed's.  PDF, OFD and QR pictures have bytes no signature covers
(a PDF's trailing bytes, a ZIP's metadata, pixels), so (4) is not checked for them.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from formats.errors import FormatError

NOT_CHECKED = object()


class Finding(Exception):
    """Not a crash of the target but a wrong answer (5xx, guarded internal error, forged pass)."""


def _guard_fired(report) -> str | None:
    for c in report.checks:
        if not c.passed and (c.name.endswith(".internal") or c.name.endswith(".verifier")):
            return f"{c.name}: {c.detail}"
    return None


class Target:
    name = ""
    max_len = 4096
    instrument: tuple[str, ...] = ("formats", "verification")
    allowed: tuple[type[BaseException], ...] = ()

    def setup(self, seeds: list[bytes]) -> None:
        self.seed_meanings = set()
        for s in seeds:
            try:
                passed, meaning = self.check(s)
            except Exception:  # noqa: BLE001 - a seed that fails to verify simply has no meaning
                continue
            if passed and meaning is not NOT_CHECKED:
                self.seed_meanings.add(meaning)

    def check(self, data: bytes):
        """Run one input → (passed, meaning or NOT_CHECKED).  Raise for crashes / findings."""
        raise NotImplementedError

    def __call__(self, data: bytes) -> None:
        try:
            passed, meaning = self.check(data)
        except self.allowed:
            return
        if passed and meaning is not NOT_CHECKED and meaning not in self.seed_meanings:
            raise Finding("TOTAL_PASSED for a mutated input with a different signed meaning")


def _now() -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=1)


def _trust():
    from license_svc.config import DEV_KEYS_DIR
    from license_svc.verify_service import verifier_trust
    from signing.keystore import KeyStore

    ks = KeyStore.load(DEV_KEYS_DIR)
    return ks, verifier_trust(ks)


class _Trusting(Target):
    """A target judged with the dev PKI's verifier trust, as of a minute from now."""

    def setup(self, seeds):
        _, self.trust = _trust()
        self.at = _now()
        super().setup(seeds)


class _Report(_Trusting):
    """A verifier that answers with a report and covers bytes no signature does: only its own
    guard firing is a finding."""

    def report(self, data: bytes):
        raise NotImplementedError

    def check(self, data):
        if (guard := _guard_fired(self.report(data))):
            raise Finding(guard)
        return False, NOT_CHECKED


class Seal(_Trusting):
    """GB/T 38540 SESeal / SES_Signature (and GM/T 0031 v1) through the DER reader, the seal
    parser and the seal verifier."""

    name, max_len = "seal", 65536

    allowed = (FormatError,)

    def check(self, data):
        from formats import der
        from formats.seal.parse import detect, parse_seal, parse_signature
        from verification.report import TOTAL_PASSED
        from verification.seal import verify_seal, verify_signature

        try:
            der.read(data)
        except ValueError:
            pass
        for parse in (parse_seal, parse_signature, detect):
            try:
                parse(data)
            except self.allowed:
                pass
        for verify in (verify_seal, verify_signature):
            report = verify(data, at=self.at, trust=self.trust.seal)
            if (guard := _guard_fired(report)):
                raise Finding(guard)
            if report.indication == TOTAL_PASSED:
                return True, parse_seal(data).signed_bytes
        return False, NOT_CHECKED


class QrText(_Trusting):
    """EL1 / EP1 text: Base45, zlib, CBOR, COSE_Sign1, the claims."""

    name, max_len = "qr-text", 8192
    instrument = ("formats", "verification", "cbor2", "base45")

    def check(self, data):
        from verification.qr import verify_qr_text
        from verification.report import TOTAL_PASSED

        report = verify_qr_text(data, self.trust.qr, self.at)
        if report.indication != TOTAL_PASSED:
            return False, NOT_CHECKED
        import base45
        import cbor2

        text = data.decode("utf-8").strip()  # as the verifier reads a scan
        msg = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
        msg = getattr(msg, "value", msg)
        return True, (bytes(msg[0]), bytes(msg[2]))  # protected header and payload: what is signed


class QrImage(_Report):
    """Pictures of QR codes (PNG here) through Pillow/zxing-cpp and the QR verifier."""

    name, max_len = "qr-image", 16384

    def report(self, data):
        from verification.qr import verify_qr_image

        return verify_qr_image(data, self.trust.qr, self.at)


class Pdf(_Report):
    """Licence PDFs through pyHanko's reader and the PDF verifier (structure, signature, seal)."""

    name, max_len = "pdf", 262144

    def report(self, data):
        from verification.pdf import verify_pdf

        return verify_pdf(data, self.trust.seal, self.at)


class Ofd(_Report):
    """OFD packages: the ZIP reader, the XML (defusedxml) and the signature verifiers."""

    name, max_len = "ofd", 131072

    def report(self, data):
        from verification.ofd import verify_ofd

        return verify_ofd(data, self.trust.seal, self.at)


class Status(_Trusting):
    """Signed status responses and status lists (JSON envelopes)."""

    name, max_len = "status", 16384

    allowed = (FormatError,)

    def check(self, data):
        from formats.canonical_json import canonical_json
        from formats.envelope import parse_json
        from verification import status as vs

        env = parse_json(data)
        schema = env.get("payload", {}).get("schema") if isinstance(env, dict) \
            and isinstance(env.get("payload"), dict) else None
        verify = vs.verify_status_list if schema == vs.LIST_SCHEMA else vs.verify_status_response
        verify(env, self.trust.status, self.at)
        return True, canonical_json(env["payload"])


class TrustList(Target):
    """Region trust lists and the federation list of lists."""

    name, max_len = "trustlist", 65536

    def setup(self, seeds):
        ks, _ = _trust()
        self.signers = [ks.credential("sh", "trust_list", "sm2").cert.dump()]
        self.roots = [ks.federation_root().cert.dump()]
        self.at = _now()
        super().setup(seeds)

    def check(self, data):
        from formats.canonical_json import canonical_json
        from verification import trustlist as tl
        from verification.report import TOTAL_PASSED

        meaning = NOT_CHECKED
        passed = False
        for result in (tl.verify_trust_list(data, self.signers, self.at, region="sh"),
                       tl.verify_federation_list(data, self.roots, self.at)):
            if (guard := _guard_fired(result.report)):
                raise Finding(guard)
            if result.report.indication == TOTAL_PASSED:
                passed, meaning = True, canonical_json(result.payload)
        return passed, meaning


class Checkpoint(Target):
    """Audit-log checkpoints (signed notes, c2sp.org/tlog-checkpoint) with SM2 signatures."""

    name, max_len = "checkpoint", 4096

    def setup(self, seeds):
        from formats import algorithms as alg
        from verification.tlog import NoteKey

        ks, _ = _trust()
        cert = ks.credential("sh", "audit_log", "sm2").cert
        self.keys = [NoteKey("licence-audit/sh", alg.load_public_key(cert.public_key).spki_der())]
        super().setup(seeds)

    def check(self, data):
        from verification import tlog

        res = tlog.verify_checkpoint(data, self.keys, origin="licence-audit/sh")
        if not res.ok:
            return False, NOT_CHECKED
        cp = res.checkpoint
        return True, (cp.origin, cp.size, cp.root)


class Api(Target):
    """The JSON API in-process (a dev node on SQLite, FastAPI through TestClient): an input is a
    route name, NUL, and a body; any 5xx is a finding.  The route part is fuzzed too (it names
    the path parameter), so identifiers with traversal, NULs and unicode reach the routes."""

    name, max_len = "api", 8192
    instrument = ("license_svc", "formats", "verification")
    ROUTES = {  # name -> (path template, client)
        "issue": ("/api/v1/licences", "sh-issuer-amr"),
        "batch": ("/api/v1/licences/batch", "sh-issuer-amr"),
        "grant": ("/api/v1/grants", "sh-citizen"),
        "retrieval": ("/api/v1/retrievals", "sh-relying"),
        "suspend": ("/api/v1/licences/{}/suspend", "sh-issuer-amr"),
        "revoke": ("/api/v1/licences/{}/revoke", "sh-issuer-amr"),
        "amend": ("/api/v1/licences/{}/amend", "sh-issuer-amr"),
        "dispute": ("/api/v1/disputes", "sh-relying"),
        "verify": ("/api/v1/verify", "sh-relying"),
        "seal-sign": ("/api/v1/seals/{}/sign", "sh-issuer-amr"),
    }

    def setup(self, seeds):
        import tempfile

        from fastapi.testclient import TestClient

        from license_svc.bootstrap import bootstrap
        from license_svc.config import DEV_KEYS_DIR, Settings
        from license_svc.web import create_app

        self._tmp = tempfile.TemporaryDirectory(prefix="fuzz-api-node-")
        self.ctx = bootstrap(Settings(region="sh", env="development", data_dir=Path(self._tmp.name),
                                      keys_dir=DEV_KEYS_DIR, sync_interval_minutes=0))
        app = create_app(ctx=self.ctx)
        app.state.audit_checkpoint_interval = 0
        self.http = TestClient(app, raise_server_exceptions=False)
        self.http.__enter__()
        clients = json.loads((DEV_KEYS_DIR / "clients.json").read_text())
        self.keys = {c["client_id"]: f"Bearer {c['api_key']}" for c in clients}
        self.names = sorted(self.ROUTES)
        super().setup(seeds)

    def check(self, data):
        head, _, body = data.partition(b"\x00")
        name, _, param = head.decode("utf-8", "replace").partition(":")
        if name not in self.ROUTES:
            name = self.names[sum(head) % len(self.names)]
        template, client = self.ROUTES[name]
        path = template.format(quote(param, safe="")) if "{}" in template else template
        resp = self.http.post(path, content=body, headers={
            "Authorization": self.keys[client], "content-type": "application/json"})
        if resp.status_code >= 500:
            raise Finding(f"HTTP {resp.status_code} from POST {path}: {resp.text[:300]}")
        return False, NOT_CHECKED


class Planted(Target):
    """Not a parser: tests/test_fuzz_smoke.py checks with it that the harness reports a crash (an
    input containing FUZZ raises KeyError) and a forged pass (an input starting with P passes and
    means itself, so any such mutation of the seed PASS is a pass with another meaning)."""

    name, max_len = "selftest", 64
    instrument = ("fuzz_targets",)

    def check(self, data):
        if b"FUZZ" in data:
            raise KeyError("planted")
        return data.startswith(b"P"), data


TARGETS = {t.name: t for t in (Seal, QrText, QrImage, Pdf, Ofd, Status, TrustList, Checkpoint, Api)}
ALL = {**TARGETS, Planted.name: Planted}
