"""OFD licences (docs/ofd.md) through the service: GET /api/v1/licences/{id}/ofd, `license-svc
issue --format`, and both verifier doors (`license-svc verify`, POST /api/v1/verify) — every
template, SM2 and RSA organisations alike — with reports that say what the PDF's of the same
licence says: verdict, licence, signer and seal."""

import json
import os
import subprocess
import sys

import pytest

from license_svc.licences.models import LicenceOfd
from tests.support.issuing import example
from tests.support.ofd_licences import FOLDERS, issue_both, issuer

VERIFY = "/api/v1/verify"
SIGNER_KEYS = ("subject", "issuer", "serial")


def _verify(client, headers, name: str, data: bytes) -> dict:
    r = client.post(VERIFY, files={"file": (name, data, "application/octet-stream")},
                    headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _org(subject: str) -> str:
    return next(p for p in subject.split(", ") if p.startswith("Organization Identifier"))


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
@pytest.mark.parametrize("folder", FOLDERS)
def test_ofd_of_every_template_verifies_like_its_pdf(ctx, client, issuers, auth_headers, folder,
                                                     algorithm):
    version, pdf, stored = issue_both(ctx, issuers, folder, algorithm)
    _, headers = issuer(issuers, folder)
    r = client.get(f"/api/v1/licences/{version.identifier}/ofd", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/ofd"
    assert r.content == stored  # made once, then kept: every download is the same file
    relying = auth_headers["relying"]
    of_ofd = _verify(client, relying, "l.ofd", r.content)
    of_pdf = _verify(client, relying, "l.pdf", pdf)
    assert (of_ofd["indication"], of_ofd["sub_indication"]) == ("TOTAL_PASSED", None), \
        [c for c in of_ofd["checks"] if not c["passed"]]
    assert (of_ofd["indication"], of_ofd["sub_indication"]) == (of_pdf["indication"],
                                                                of_pdf["sub_indication"])
    assert of_ofd["licence"] == of_pdf["licence"]
    assert of_ofd["licence"]["identifier"] == version.identifier
    assert of_ofd["licence"]["status"] == "active"
    assert {k: v for k, v in of_ofd["seal"].items() if k != "stamps"} == of_pdf["seal"]
    assert of_ofd["seal"]["stamps"][0]["page"] == 1
    if algorithm == "sm2":
        assert [of_ofd["signer"][k] for k in SIGNER_KEYS] == [of_pdf["signer"][k] for k in SIGNER_KEYS]
    else:  # the OFD seal signature is the organisation's SM2 key (docs/ofd.md "RSA organisations")
        assert _org(of_ofd["signer"]["subject"]) == _org(of_pdf["signer"]["subject"])
        assert "SM2" in of_ofd["signer"]["subject"] and "RSA" in of_pdf["signer"]["subject"]


def test_status_and_amendment_cover_the_ofd(ctx, client, issuers, auth_headers):
    version, _, ofd = issue_both(ctx, issuers, "business_licence")
    _, headers = issuer(issuers, "business_licence")
    relying = auth_headers["relying"]
    r = client.post(f"/api/v1/licences/{version.identifier}/suspend", json={"reason": "核查"},
                    headers=headers)
    assert r.status_code == 200, r.text
    body = _verify(client, relying, "l.ofd", ofd)
    assert (body["indication"], body["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    assert body["licence"]["status"] == "suspended"
    client.post(f"/api/v1/licences/{version.identifier}/reinstate", json={"reason": "核查完毕"},
                headers=headers)
    amended = client.post(f"/api/v1/licences/{version.identifier}/amend",
                          json={"changes": {"fields": {"address": "上海市黄浦区中山东一路1号"}},
                                "reason": "住所变更"}, headers=headers)
    assert amended.status_code == 201, amended.text
    newer = amended.json()["identifier"]
    old = _verify(client, relying, "old.ofd", ofd)
    assert old["indication"] == "TOTAL_PASSED" and old["licence"]["status"] == "superseded"
    new_ofd = client.get(f"/api/v1/licences/{newer}/ofd", headers=headers).content
    new = _verify(client, relying, "new.ofd", new_ofd)
    assert new["indication"] == "TOTAL_PASSED" and new["licence"]["identifier"] == newer
    client.post(f"/api/v1/licences/{newer}/revoke", json={"reason": "吊销"}, headers=headers)
    revoked = _verify(client, relying, "new.ofd", new_ofd)
    assert (revoked["indication"], revoked["sub_indication"]) == ("TOTAL_FAILED", "REVOKED")


def test_ofd_route_is_read_access_checked_and_audited(ctx, client, issuers, auth_headers):
    version, _, _ = issue_both(ctx, issuers, "driving_licence")
    r = client.get(f"/api/v1/licences/{version.identifier}/ofd", headers=auth_headers["relying"])
    assert r.status_code == 403
    other = issuer(issuers, "business_licence")[1]  # another organisation's issuer
    assert client.get(f"/api/v1/licences/{version.identifier}/ofd", headers=other).status_code == 403
    from license_svc.audit.models import AuditEntryRow
    from license_svc import audit
    from sqlalchemy import select

    with ctx.unit_of_work() as session:
        audit.sequence_pending(session)
        rows = session.execute(select(AuditEntryRow.action, AuditEntryRow.outcome)
                               .where(AuditEntryRow.licence_id == version.identifier)).all()
    assert rows.count(("licence.read.ofd", "denied")) == 2


def test_ofd_refused_while_the_licence_seal_is_suspended(ctx, client, issuers):
    version, _, _ = issue_both(ctx, issuers, "food_business_licence")
    _, headers = issuer(issuers, "food_business_licence")
    with ctx.unit_of_work() as session:  # a licence whose OFD was never asked for
        session.delete(session.get(LicenceOfd, version.identifier))
    from license_svc.seals.models import SealRow
    from sqlalchemy import update

    with ctx.unit_of_work() as session:
        session.execute(update(SealRow).where(SealRow.org_code == version.issuer_code)
                        .values(status="suspended"))
    r = client.get(f"/api/v1/licences/{version.identifier}/ofd", headers=headers)
    assert r.status_code == 409, r.text
    assert "problem" in r.headers["content-type"]


def _run(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "license_svc", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=180)


def test_cli_issue_format_and_verify(tmp_path, settings):
    env = dict(os.environ, LICENSE_SVC_DATA_DIR=str(tmp_path / "var"),
               LICENSE_SVC_DATABASE_URL=settings.database_url, LICENSE_SVC_REGION="sh",
               LICENSE_SVC_PEERS="")
    data = tmp_path / "req.json"
    data.write_text(json.dumps(example("marriage_certificate"), ensure_ascii=False), encoding="utf-8")
    written = {}
    for n, fmt in enumerate(("ofd", "both", "pdf")):  # a couple each: not one licence thrice
        data.write_text(json.dumps(example("marriage_certificate", n), ensure_ascii=False),
                        encoding="utf-8")
        out = tmp_path / fmt
        r = _run(["issue", "--type", "marriage_certificate", "--data", str(data), "--format", fmt,
                  "--out", str(out)], env, tmp_path)
        assert r.returncode == 0, r.stderr
        written[fmt] = sorted(p.suffix for p in out.iterdir())
        ident = r.stdout.strip()
    assert written == {"ofd": [".json", ".ofd"], "both": [".json", ".ofd", ".pdf"],
                       "pdf": [".json", ".pdf"]}
    ofd = tmp_path / "both" / next(p.name for p in (tmp_path / "both").iterdir() if p.suffix == ".ofd")
    v = _run(["verify", str(ofd), "--json"], env, tmp_path)
    body = json.loads(v.stdout)
    assert (v.returncode, body["indication"]) == (0, "TOTAL_PASSED"), v.stdout + v.stderr
    assert body["licence"]["status"] == "active" and body["seal"]["stamps"]
    bad = _run(["issue", "--type", "marriage_certificate", "--data", str(data), "--format", "odt",
                "--out", str(tmp_path / "x")], env, tmp_path)
    assert bad.returncode == 3 and "--format" in bad.stderr and not (tmp_path / "x").exists()
    assert ident
