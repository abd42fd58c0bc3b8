"""Seed inputs for bench/fuzz.py, made by the project itself: a development node is started
in-process (bootstrap + the FastAPI app through TestClient, SQLite in a temporary folder), licences
are issued over the API, and what a relying party would receive is fetched the way it would be —
PDFs, EL1 text and QR pictures, an EP1 presentation, status responses and the status list, the
trust lists, an audit checkpoint, a seal and a seal signature.  OFD packages come from the test
helpers (tests/support/ofd.py) and, where the shared interop folder is present, from ofdrw.

Why seeds matter: a mutation fuzzer starting from valid inputs reaches the signature, path and
policy checks; from random bytes it would only ever exercise the first length check.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OFDRW = Path("/work/shared/interop/ofdrw")
ISSUER, CITIZEN, RELYING, AUDITOR = "sh-issuer-amr", "sh-citizen", "sh-relying", "sh-auditor"
TRAFFIC = "sh-issuer-traffic"


def _keys() -> dict[str, dict[str, str]]:
    clients = json.loads((ROOT / "keys_dev" / "clients.json").read_text())
    return {c["client_id"]: {"Authorization": f"Bearer {c['api_key']}"} for c in clients}


def _ok(resp, what: str):
    if resp.status_code >= 300:
        raise RuntimeError(f"seed step {what}: HTTP {resp.status_code} {resp.text[:300]}")
    return resp


def build(out: Path) -> dict[str, int]:
    """Write seeds to out/<parser>/NNN; return the count per parser.  Reused when present."""
    marker = out / "done.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if out.exists():
        shutil.rmtree(out)
    seeds: dict[str, list[bytes]] = {}
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-node-") as tmp:
        _from_service(Path(tmp), seeds)
    _ofd(seeds)
    counts = {}
    for parser, items in seeds.items():
        d = out / parser
        d.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(items):
            (d / f"{i:03d}").write_bytes(data)
        counts[parser] = len(items)
    marker.write_text(json.dumps(counts))
    return counts


def _from_service(tmp: Path, seeds: dict[str, list[bytes]]) -> None:
    from fastapi.testclient import TestClient

    from license_svc.bootstrap import bootstrap
    from license_svc.config import DEV_KEYS_DIR, Settings
    from license_svc.web import create_app
    from holders import Holders, created, held
    from tests.support.issuing import example

    ctx = bootstrap(Settings(region="sh", env="development", data_dir=tmp, keys_dir=DEV_KEYS_DIR,
                             sync_interval_minutes=0))
    keys = _keys()
    add = lambda parser, data: seeds.setdefault(parser, []).append(data)  # noqa: E731
    api_bodies = seeds.setdefault("api", [])
    try:
        with TestClient(create_app(ctx=ctx)) as http:
            idents, companies = [], Holders("business_licence")
            for i, algorithm in enumerate(("sm2", "rsa")):
                body = companies(algorithm=algorithm)
                api_bodies.append(_api_seed("issue", body))
                ident = created(http.post("/api/v1/licences", json=body, headers={
                    **keys[ISSUER], "Idempotency-Key": f"fuzz-seed-{i}"}), "issue")["identifier"]
                idents.append(ident)
                add("pdf", _ok(http.get(f"/api/v1/licences/{ident}/pdf", headers=keys[ISSUER]),
                               "pdf").content)
                add("qr-text", _ok(http.get(f"/api/v1/licences/{ident}/qr?format=text",
                                            headers=keys[ISSUER]), "qr text").content)
                add("qr-image", _ok(http.get(f"/api/v1/licences/{ident}/qr",
                                             headers=keys[ISSUER]), "qr png").content)
                add("status", _ok(http.get(f"/api/v1/licences/{ident}/status"), "status").content)
            driving = held(http.post("/api/v1/licences", json=example("driving_licence"),
                                     headers=keys[TRAFFIC]), "the citizen's driving licence")
            ep1 = _ok(http.post(f"/api/v1/licences/{driving}/presentations",
                                headers=keys[CITIZEN]), "presentation").json()["text"]
            add("qr-text", ep1.encode())
            _ok(http.post(f"/api/v1/licences/{idents[1]}/suspend", json={"reason": "年报核查"},
                          headers=keys[ISSUER]), "suspend")
            add("status", _ok(http.get(f"/api/v1/licences/{idents[1]}/status"), "status").content)
            issuer_code = idents[0].split(".")[6]
            add("status", _ok(http.get(f"/api/v1/status-lists/{issuer_code}"), "status list").content)
            add("trustlist", _ok(http.get("/api/v1/trust-list"), "trust list").content)
            add("trustlist", _ok(http.get("/api/v1/federation"), "federation list").content)
            add("checkpoint", _ok(http.get("/api/v1/audit/checkpoint"), "checkpoint").content)
            seal_list = _ok(http.get("/api/v1/seals", headers=keys[ISSUER]), "seals").json()
            items = seal_list["seals"] if isinstance(seal_list, dict) else seal_list
            mine = [s for s in items if s["org_code"] == "11310000MB0000010A" and s["status"] == "active"]
            es_id = (mine or items)[0]["id"]
            add("seal", _ok(http.get(f"/api/v1/seals/{es_id}/seal.esl", headers=keys[ISSUER]), "seal").content)
            add("seal", _ok(http.post(f"/api/v1/seals/{es_id}/sign", content=b"fuzz seed document",
                                      headers={**keys[ISSUER], "content-type": "application/pdf"}),
                            "seal sign").content)
            for body in _api_bodies(idents, driving, es_id):
                api_bodies.append(body)
    finally:
        ctx.close()
    for name in ("UserV1.esl", "UserV4.esl", "UserV5.esl", "SignedValueV4.dat", "SignedValueV5.dat"):
        if (OFDRW / name).exists():
            add("seal", (OFDRW / name).read_bytes())


def _api_seed(route: str, body) -> bytes:
    """An API fuzz input: the route's name, a NUL, then the JSON body the fuzzer mutates."""
    return route.encode() + b"\x00" + json.dumps(body, ensure_ascii=False).encode()


def _api_bodies(idents: list[str], driving: str, es_id: str) -> list[bytes]:
    grant = {"grantee_org": "11310000MB0000300A", "licence_type": "driving_licence",
             "matter_code": "310000-000-0001", "valid_until": "2031-01-01T00:00:00+08:00",
             "max_uses": 3}
    retrieval = {"holder_code": "310101199003071230", "holder_code_type": "111",
                 "licence_type": "driving_licence", "matter_code": "310000-000-0001",
                 "legal_basis": "《中华人民共和国行政许可法》第三十四条", "want": "verify",
                 "operator": "王五"}
    return [
        _api_seed("grant", grant),
        _api_seed("retrieval", retrieval),
        _api_seed("retrieval", {**retrieval, "want": "data", "licence_id": driving}),
        _api_seed("suspend:" + idents[0], {"reason": "年报核查"}),
        _api_seed("revoke:" + idents[0], {"reason": "依法吊销"}),
        _api_seed("amend:" + idents[0], {"fields": {"registered_capital_wan": 800}}),
        _api_seed("dispute", {"licence_id": idents[0], "category": "data-error",
                              "text": "登记的住所与实际不符"}),
        _api_seed("verify", {"qr": "EL1:fuzz"}),
        _api_seed("seal-sign:" + es_id, {"sm3": "00" * 32, "property_info": "合同.pdf"}),
        _api_seed("batch", {"licences": []}),
    ]


def _ofd(seeds: dict[str, list[bytes]]) -> None:
    from tests.support import ofd

    items = seeds.setdefault("ofd", [])
    items.append(ofd.seal_package())
    items.append(ofd.sign_package("gm"))
    for name in ("SESV4SignDoc.ofd", "signedFile.ofd", "DigitalSign.ofd", "v4signed.ofd"):
        if (OFDRW / name).exists() and (OFDRW / name).stat().st_size < 2_000_000:
            items.append((OFDRW / name).read_bytes())
