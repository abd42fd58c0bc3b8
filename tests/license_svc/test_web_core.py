"""The web layer: problem+json errors, body limit, health, metrics, request ids, JSON logs."""

from __future__ import annotations

import contextlib

import io
import json
import logging
import re

import pytest
from fastapi import APIRouter, Body
from fastapi.testclient import TestClient
from pydantic import BaseModel

from license_svc.config import ConfigError, Settings
from formats.privacy import mask_id_numbers as redact_id_numbers
from license_svc.logs import configure_logging
from license_svc.web import ProblemError, create_app
from formats.errors import KeyFormatError, Kind

PROBLEM = "urn:license-svc:problem:"
ID_NUMBER = "11010519491231002X"  # GB 11643 example number, valid check digit
ID_RE = re.compile(r"\d{17}[\dXx]")


class _Titled(KeyFormatError):
    code, kind = "licence-state", Kind.CONFLICT
    title_zh, title_en = "证照状态不允许此操作", "Licence state does not allow this"


class Form(BaseModel):
    holder_code: str
    count: int


def _probe_router() -> APIRouter:
    router = APIRouter()

    @router.post("/probe/form")
    def form(body: Form):
        return {"ok": True}

    @router.post("/probe/raw")
    def raw(body: bytes = Body(...)):
        return {"len": len(body)}

    @router.get("/probe/items/{item_id}")
    def item(item_id: str):
        raise ProblemError(409, "licence-revoked", "证照已撤销", "Licence revoked",
                           f"item {item_id} is revoked", identifier=item_id)

    @router.get("/probe/crash/{holder}")
    def crash(holder: str):
        raise RuntimeError(f"database said something about {holder}")

    @router.get("/probe/signing")
    def signing_error():
        raise KeyFormatError("not a PKCS#8 key", "不是 PKCS#8 私钥")

    @router.get("/probe/signing-titled")
    def signing_error_with_titles():
        raise _Titled("licence 1.2.3 is revoked", "证照 1.2.3 已撤销")

    @router.get("/probe/log")
    def log_something():
        logging.getLogger("license_svc.test").info("holder %s looked up", ID_NUMBER)
        return {}

    return router


@pytest.fixture
def probe(ctx):
    app = create_app(ctx=ctx)
    app.include_router(_probe_router())
    with TestClient(app, raise_server_exceptions=False) as tc:
        yield tc


def _assert_problem(r, status, slug):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == PROBLEM + slug
    assert body["status"] == status
    assert re.search(r"[\u4e00-\u9fff]", body["title_zh"]), "Chinese title"
    assert re.fullmatch(r"[\x20-\x7e]+", body["title_en"]), "English title"
    assert body["title"] == f"{body['title_zh']} / {body['title_en']}"
    assert body["request_id"] == r.headers["x-request-id"]
    return body


def test_not_found_is_problem(probe):
    _assert_problem(probe.get("/no/such/route"), 404, "not-found")


def test_method_not_allowed_is_problem(probe):
    _assert_problem(probe.delete("/healthz"), 405, "method-not-allowed")


def test_domain_problem_with_extension_members(probe):
    body = _assert_problem(probe.get("/probe/items/abc"), 409, "licence-revoked")
    assert body["identifier"] == "abc" and body["detail"] == "item abc is revoked"


def test_validation_error_is_problem_without_echoing_input(probe):
    r = probe.post("/probe/form", json={"holder_code": ID_NUMBER, "count": "many"})
    body = _assert_problem(r, 422, "validation-error")
    assert body["errors"][0]["loc"] == ["body", "count"]
    assert ID_NUMBER not in r.text


def test_malformed_json_is_problem(probe):
    r = probe.post("/probe/form", content=b"{not json", headers={"content-type": "application/json"})
    _assert_problem(r, 422, "validation-error")


def test_signing_error_becomes_problem(probe):
    body = _assert_problem(probe.get("/probe/signing"), 422, "key-format")
    assert body["title_zh"] == "不是 PKCS#8 私钥"
    body = _assert_problem(probe.get("/probe/signing-titled"), 409, "licence-state")
    assert body["title_en"] == "Licence state does not allow this"
    assert body["detail"] == "licence 1.2.3 is revoked" and body["detail_zh"] == "证照 1.2.3 已撤销"


def test_unhandled_error_is_500_problem_without_details(probe):
    r = probe.get(f"/probe/crash/{ID_NUMBER}")
    body = _assert_problem(r, 500, "internal-error")
    assert "database said" not in r.text and ID_NUMBER not in r.text
    assert "detail" not in body


def test_body_too_large_by_content_length(ctx):
    ctx.settings = Settings(**{**vars(ctx.settings), "max_body_bytes": 1000})
    app = create_app(ctx=ctx)
    app.include_router(_probe_router())
    with TestClient(app) as tc:
        assert tc.post("/probe/raw", content=b"x" * 1000).json() == {"len": 1000}
        body = _assert_problem(tc.post("/probe/raw", content=b"x" * 1001), 413, "body-too-large")
        assert body["max_bytes"] == 1000


def test_body_too_large_while_streaming(ctx):
    """A chunked upload with no Content-Length is cut off once it passes the limit."""
    ctx.settings = Settings(**{**vars(ctx.settings), "max_body_bytes": 1000})
    app = create_app(ctx=ctx)
    app.include_router(_probe_router())
    sent = []

    def chunks():
        for _ in range(100):
            sent.append(1)
            yield b"y" * 300

    with TestClient(app) as tc:
        r = tc.post("/probe/raw", content=chunks())
        _assert_problem(r, 413, "body-too-large")
        r = tc.post("/probe/form", content=chunks(), headers={"content-type": "application/json"})
        _assert_problem(r, 413, "body-too-large")


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_ready_and_not_ready(ctx_factory, settings):
    ready = ctx_factory(settings, keystore_loader=lambda s: object())
    with TestClient(create_app(ctx=ready)) as tc:
        r = tc.get("/readyz")
        assert r.status_code == 200
        body = r.json()
        assert "ok" in body["issuance"]  # which organisations cannot issue: its own test
        assert {k: body[k] for k in ("status", "region", "checks")} == {
            "status": "ready", "region": "sh", "checks": {"database": "ok", "keys": "ok"}}
        assert "trust_lists" in body  # sync_overview: information, not a readiness check

    def broken(_s):
        raise FileNotFoundError("no manifest.json")

    no_keys = ctx_factory(settings, keystore_loader=broken)
    with TestClient(create_app(ctx=no_keys)) as tc:
        body = _assert_problem(tc.get("/readyz"), 503, "not-ready")
        assert body["checks"]["database"] == "ok" and body["checks"]["keys"].startswith("not loadable")

    no_db = ctx_factory(Settings(**{**vars(settings), "database_url":
                                    "postgresql+psycopg://nobody@127.0.0.1:1/none"}),
                        keystore_loader=lambda s: object())
    with TestClient(create_app(ctx=no_db)) as tc:
        body = _assert_problem(tc.get("/readyz"), 503, "not-ready")
        assert body["checks"]["database"].startswith("unreachable")


def test_readyz_with_dev_keys(client, ctx):
    pytest.importorskip("signing.keystore")
    if not (ctx.settings.keys_dir / "manifest.json").exists():
        pytest.skip("keys_dev not generated yet")
    assert client.get("/readyz").status_code == 200


def test_metrics_by_route_template(probe):
    probe.get("/probe/items/one")
    probe.get("/probe/items/two")
    probe.get("/healthz")
    text = probe.get("/metrics").text
    assert ('license_svc_http_requests_total{method="GET",route="/probe/items/{item_id}",status="409"} 2.0'
            in text)
    assert 'license_svc_http_request_duration_seconds_count{method="GET",route="/healthz"} 1.0' in text
    assert "/probe/items/one" not in text


def test_request_id_echoed_or_made(probe):
    r = probe.get("/healthz", headers={"X-Request-ID": "abc-123.req"})
    assert r.headers["x-request-id"] == "abc-123.req"
    made = probe.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", made)
    # A hostile id (header injection, log forging) is replaced, not echoed.
    r = probe.get("/healthz", headers={"X-Request-ID": 'x" \n{"level":"fake"}'})
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", r.headers["x-request-id"])


def test_logs_are_json_with_request_id_and_no_id_numbers(probe):
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO", stream=stream)
    try:
        probe.get("/probe/log", headers={"X-Request-ID": "log-test-1"})
        probe.get(f"/probe/crash/{ID_NUMBER}?holder={ID_NUMBER}")
        probe.get(f"/probe/items/{ID_NUMBER}")
        probe.post("/probe/form", json={"holder_code": ID_NUMBER, "count": "x"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 5
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert not [line for line in lines if ID_RE.search(line)], "an ID number reached the log"
    access = [r for r in records if r["logger"] == "license_svc.access" and r["msg"] == "request"]
    assert {r["route"] for r in access} >= {"/probe/log", "/probe/crash/{holder}", "/probe/items/{item_id}"}
    first = next(r for r in records if r["logger"] == "license_svc.test")
    assert first["request_id"] == "log-test-1" and "[REDACTED-ID]" in first["msg"]
    crash = [r for r in records if r.get("exc")]
    assert crash and "RuntimeError" in crash[0]["exc"]


def test_python_warnings_become_json_records(monkeypatch):
    """A dependency's warning reaches the log as one JSON object (redacted like the rest), not
    as a raw text line in the middle of the JSON stream."""
    import warnings

    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.captureWarnings(False)  # an earlier test's capture may point at pytest's recorder
    configure_logging("INFO", stream=stream)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn(f"deprecated thing used for {ID_NUMBER}", UserWarning)
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["logger"] == "py.warnings" and record["level"] == "warning"
    assert "deprecated thing used" in record["msg"] and ID_NUMBER not in line


def test_redaction_patterns():
    assert redact_id_numbers(f"id={ID_NUMBER};") == "id=[REDACTED-ID];"
    assert redact_id_numbers("old 110105491231002 id") == "old [REDACTED-ID] id"
    assert redact_id_numbers("ts 1700000000000 ok") == "ts 1700000000000 ok"  # 13 digits stay


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert "/healthz" in spec["paths"] and spec["info"]["title"].startswith("license-svc sh")
    assert "swagger" in client.get("/docs").text.lower()


def test_production_refuses_dev_keys(tmp_path):
    from license_svc.bootstrap import bootstrap

    s = Settings(env="production", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="keys_dev"):
        bootstrap(s)
    assert not (tmp_path / "license-svc-sh.db").exists(), "nothing is done before the key check"


def test_serve_command_refuses_dev_keys_in_production(tmp_path):
    import subprocess
    import sys

    env = {"LICENSE_SVC_ENV": "production", "LICENSE_SVC_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "license_svc", "serve", "--port", "1"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3
    assert "keys_dev" in r.stderr and "拒绝启动" in r.stderr


def test_pki_route_lists_region_certificates(client):
    from asn1crypto import pem, x509

    r = client.get("/api/v1/pki")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"] == "sh" and body["development_only"] is True
    roles = {c["role"] for c in body["certificates"]}
    assert {"root", "issuing_ca", "licence_signer", "seal_maker", "node", "tsa"} <= roles
    assert {c["role"] for c in body["federation"]} == {"federation_root"}
    assert body["crls"]
    assert "PRIVATE KEY" not in r.text
    for c in body["certificates"]:
        _, _, der = pem.unarmor(c["pem"].encode())
        cert = x509.Certificate.load(der)
        assert c["org_code"] in c["subject"] and cert.serial_number == int(c["serial"], 16)


@contextlib.contextmanager
def _serving(tmp_path, *args: str):
    """A real `license-svc serve` on a free port: yields (base URL, process, output lines so
    far — filled in when the block ends)."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"LICENSE_SVC_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "license_svc", "serve", "--port", str(port), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, lines = f"http://127.0.0.1:{port}", []
    try:
        deadline, r = time.monotonic() + 120, None  # generous: CI runs two workers on two cores
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"{url}/readyz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert r is not None and r.status_code == 200, r and r.text
        yield url, proc, lines
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        lines.extend(line for line in out.splitlines() if line.strip())


def test_serve_command_starts_seeds_and_logs_json(tmp_path):
    """The real entry point (what `make run` runs): migrates a fresh SQLite file, seeds the dev
    clients, answers /readyz, and logs only JSON."""
    with _serving(tmp_path) as (_url, _proc, lines):
        pass
    records = [json.loads(line) for line in lines]
    assert any(rec["msg"] == "dev API clients seeded" and rec["count"] > 0 for rec in records)
    assert any(rec.get("route") == "/readyz" and rec.get("status") == 200 for rec in records)
    assert (tmp_path / "license-svc-sh.db").exists()


def _spawned_workers(pid: int) -> int:
    from pathlib import Path

    count = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            count += b"multiprocessing.spawn" in cmdline
    return count


def test_serve_with_workers_uses_processes_and_sums_their_metrics(tmp_path):
    """`--workers 2`: two worker processes behind one port (CPU-bound requests need cores, not
    threads), seeded once by the parent, and /metrics counts every worker's requests."""
    import httpx

    with _serving(tmp_path, "--workers", "2") as (url, proc, lines):
        assert _spawned_workers(proc.pid) == 2
        for _ in range(12):  # a connection each, so the workers share them
            assert httpx.get(f"{url}/healthz", headers={"Connection": "close"}).status_code == 200
        assert httpx.get(f"{url}/api/v1/audit/checkpoint").status_code == 200
        text = httpx.get(f"{url}/metrics").text
    # Served by prometheus_client's multiprocess collector (it sums the workers' files and, unlike
    # one process's registry, exposes no *_created samples): not one worker's own counters.
    assert "license_svc_http_requests_total{" in text and "_created" not in text
    served = [line for line in text.splitlines()
              if line.startswith("license_svc_http_requests_total{") and 'route="/healthz"' in line]
    assert len(served) == 1 and float(served[0].rsplit(" ", 1)[1]) == 12.0, served
    # and the scrape-time gauges (database and key store), which one worker's answer carries
    assert "license_svc_trust_list_usable{" in text and "license_svc_audit_tree_size " in text
    assert "license_svc_certificate_expiry_days{" in text
    records = [json.loads(line) for line in lines]
    assert sum(rec["msg"] == "dev API clients seeded" for rec in records) == 1


def test_every_error_kind_has_an_http_status():
    from license_svc.web.problems import KIND_STATUS

    assert set(KIND_STATUS) == {k.value for k in Kind}
