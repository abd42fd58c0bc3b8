"""The verdict and `about` on real licences, issued by the issuance functions and verified over
HTTP (`POST /api/v1/verify`, JSON and HTML) and by the CLI: suspended for 年报核查, revoked with a
reason, a genuine driving licence (type, number, masked holder), a 长期 business licence, an
expired one, and a licence whose status answer carries no reason."""

import json

from typer.testing import CliRunner

from license_svc.cli import _register, app
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.verdict_context import describe
from tests.support.issuing import ORG_TYPES, example
from verification.report import Report

_register()
URL = "/api/v1/verify"
HOLDER_ID = "310101199003071230"  # the driving licence example's holder


def _issue(ctx, issuers, folder, **changes):
    org = next(o for o, types in ORG_TYPES.items() if folder in types)
    ident = issuing.issue(ctx, issuers[org][0], example(folder, **changes)).identifiers[0]
    with ctx.unit_of_work() as s:
        v = lifecycle.load_version(s, ident)
        return ident, v.pdf, v.el1


def _verify(client, headers, *, pdf=None, qr=None, html=False):
    extra = {"Accept": "text/html"} if html else {}
    if pdf is not None:
        r = client.post(URL, files={"file": ("licence.pdf", pdf, "application/pdf")},
                        headers={**headers, **extra})
    else:
        r = client.post(URL, json={"qr": qr}, headers={**headers, **extra})
    assert r.status_code == 200, r.text
    return r.text if html else r.json()


def test_suspended_for_annual_report_check(ctx, client, issuers, auth_headers, amr):
    ident, pdf, el1 = _issue(ctx, issuers, "business_licence")
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ident, amr, "年报核查")
    day = ctx.now().date().isoformat()
    for body in (_verify(client, auth_headers["relying"], pdf=pdf),
                 _verify(client, auth_headers["relying"], qr=el1)):
        assert list(body)[:3] == ["verdict", "verdict_text", "about"]
        assert body["verdict"] == "suspended"
        assert body["verdict_text"].startswith("已暂停。") and "年报核查" in body["verdict_text"]
        assert day in body["verdict_text"]
        about = body["about"]
        assert (about["status"], about["status_name"], about["status_reason"]) == (
            "suspended", "已暂停", "年报核查")
        assert about["type_name"] == "营业执照" and about["region_name"] == "上海"
        # DESIGN §10 unchanged underneath.
        assert (body["indication"], body["sub_indication"]) == ("INDETERMINATE", "TRY_LATER")
    page = _verify(client, auth_headers["relying"], pdf=pdf, html=True)
    assert page.index("已暂停") < page.index("逐项检查") and "年报核查" in page
    assert "营业执照" in page and "上海市市场监督管理局" in page


def test_revoked_with_reason(ctx, client, issuers, auth_headers, amr):
    ident, pdf, el1 = _issue(ctx, issuers, "food_business_licence")
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, ident, amr, "依法吊销")
    for body in (_verify(client, auth_headers["relying"], pdf=pdf),
                 _verify(client, auth_headers["relying"], qr=el1)):
        assert body["verdict"] == "revoked" and body["verdict_text"].startswith("已撤销。")
        assert "依法吊销" in body["verdict_text"] and body["about"]["status_reason"] == "依法吊销"
        assert body["about"]["type_name"] == "食品经营许可证"


def test_genuine_driving_licence_names_type_number_and_masked_holder(ctx, client, issuers,
                                                                      auth_headers):
    ident, pdf, el1 = _issue(ctx, issuers, "driving_licence")
    for body in (_verify(client, auth_headers["relying"], pdf=pdf),
                 _verify(client, auth_headers["relying"], qr=el1)):
        assert body["verdict"] == "valid" and body["verdict_text"].startswith("有效。")
        about = body["about"]
        assert about["type_name"] == "机动车驾驶证"
        assert about["holder"] == "张*"                       # qr.json: "h": "name"
        assert about["number"] == "3101**********1230"       # qr.json: "n": "keep:4:4"
        assert about["issuer_name"] == "上海市公安局交通警察总队"
        assert about["validity"] == "2026-01-15 至 2032-01-15"
        assert HOLDER_ID not in json.dumps(body, ensure_ascii=False)
    page = _verify(client, auth_headers["relying"], pdf=pdf, html=True)
    assert "机动车驾驶证" in page and "张*" in page and HOLDER_ID not in page


def test_long_term_business_licence_shows_its_own_validity_not_the_codes(ctx, client, issuers,
                                                                          auth_headers):
    _ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    body = _verify(client, auth_headers["relying"], qr=el1)
    assert body["about"]["validity"].endswith("至 长期") and "valid_until" not in body["about"]
    assert body["licence"]["qr_expires_at"][:4] not in body["about"]["validity"]
    assert body["about"]["number"] == body["licence"]["n"] and body["about"]["source"] == "register"


def test_expired_licence(ctx, client, issuers, auth_headers, clock):
    _ident, pdf, el1 = _issue(ctx, issuers, "driving_licence", valid_from="2026-01-15",
                              valid_until="2026-06-10")
    clock.advance(days=10)
    for body in (_verify(client, auth_headers["relying"], pdf=pdf),
                 _verify(client, auth_headers["relying"], qr=el1)):
        assert body["verdict"] == "expired", body["verdict_text"]
        assert body["verdict_text"].startswith("已过期。") and "2026-06-10" in body["verdict_text"]


def test_cli_exit_codes_follow_the_verdict(ctx, issuers, amr, settings, clock, tmp_path):
    env = {"LICENSE_SVC_DATABASE_URL": settings.database_url, "LICENSE_SVC_REGION": "sh",
           "LICENSE_SVC_DATA_DIR": str(settings.data_dir), "LICENSE_SVC_PEERS": ""}

    def run(*args):
        return CliRunner().invoke(app, ["verify", *args, "--at", clock().isoformat()], env=env)

    ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    r = run("--qr", el1)
    assert r.exit_code == 0 and r.output.startswith("结论：有效。")
    assert "证照类型：营业执照" in r.output and "有效期：2026-01-15 至 长期" in r.output
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ident, amr, "年报核查")
    r = run("--qr", el1)
    assert r.exit_code == 1 and r.output.startswith("结论：已暂停。") and "年报核查" in r.output
    _ident, _pdf, short = _issue(ctx, issuers, "driving_licence", valid_until="2026-06-10")
    clock.advance(days=10)
    r = run("--qr", short, "--json")
    assert r.exit_code == 1 and json.loads(r.output)["verdict"] == "expired"
    assert run("--qr", "https://example.com/").exit_code == 2       # undetermined
    assert run("--qr", el1[:-4] + "AAAA").exit_code == 1            # invalid


def test_a_status_answer_without_reason_says_so(ctx, issuers):
    """A remote status list gives no reason: nothing is invented."""
    ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    report = Report(subject="pdf")
    report.licence.update({"identifier": ident, "status": "suspended"})
    report.add("pdf.licence_status", False, "证照已暂停", failure="TRY_LATER", indeterminate=True)
    describe(report, ks=ctx.keystore, session=None,
             status={"status": "suspended", "source": "status list sh-x-0"}, at=ctx.now())
    assert report.verdict.code == "suspended" and "原因未公布" in report.verdict.text
    # Without the register, a PDF names what its identifier says and no more.
    assert report.about["type_name"] == "营业执照"
    assert report.about["issuer_name"] == "上海市市场监督管理局"
    assert report.about["region_name"] == "上海" and "holder" not in report.about
    assert report.about["validity"].startswith("未知")


def test_another_regions_signed_status_gives_reason_and_date_its_list_none(ctx, issuers, amr,
                                                                          clock):
    """Verified without the issuer's register (as another region's node would): the signed
    status response carries the reason and `since`; the status list used for the next look-up
    carries neither, and the sentence says 原因未公布 rather than inventing one."""
    from license_svc.verify_service import verify_offline
    from tests.support.remote_status import remote_status

    ident, _pdf, el1 = _issue(ctx, issuers, "business_licence")
    with ctx.unit_of_work() as s:
        lifecycle.suspend(ctx, s, ident, amr, "年报核查")

    trust, cache = remote_status(ctx, clock)
    first = verify_offline(ctx.keystore, text=el1, at=clock(), region="js", remote=cache,
                           trust=trust)
    assert first.verdict.code == "suspended" and "年报核查" in first.verdict.text
    assert clock().date().isoformat() in first.verdict.text
    assert first.about["source"] == "qr" and first.about["holder"] == first.licence["h"]
    assert first.about["status_source"] == "signed status response"
    again = verify_offline(ctx.keystore, text=el1, at=clock(), region="js", remote=cache,
                           trust=trust)
    assert again.about["status_source"].startswith("status list")
    assert again.verdict.code == "suspended" and "原因未公布" in again.verdict.text


def test_both_spouses_masked_on_a_marriage_certificate(ctx, client, issuers, auth_headers):
    _ident, pdf, _el1 = _issue(ctx, issuers, "marriage_certificate")
    body = _verify(client, auth_headers["relying"], pdf=pdf)
    holders = example("marriage_certificate")["holders"]
    assert body["verdict"] == "valid" and body["about"]["type_name"] == "结婚证"
    assert body["about"]["holder"].count("、") == 1 and "*" in body["about"]["holder"]
    for h in holders:
        assert h["name"] not in body["about"]["holder"] or len(h["name"]) == 1
        assert h["code"] not in json.dumps(body, ensure_ascii=False)
