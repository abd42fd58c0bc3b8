"""Issuance end to end in process: every template × both algorithms, what the licence carries,
refusals that write nothing, idempotency and batches."""

import base64
import json
import random
import threading

import pytest
from asn1crypto import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select

from license_svc.auth.clients import Client
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.licences.models import LicenceEvent, LicenceVersion
from formats.canonical_json import canonical_json
from formats.envelope import verify_envelope
from license_svc.licences.retrieve import licence_view
from license_svc.templates import load_templates
from formats import algorithms as alg
from formats.errors import ServiceError
from license_svc.web.problems import status_of
from tests.support.issuing import AMR_SH, TRAFFIC_SH, example, issuer_for, row_counts
from verification.qr import QrTrust, verify_qr_text

TEMPLATES = sorted(load_templates())


def _issue(ctx, actor, body, **kw):
    result = issuing.issue(ctx, actor, body, **kw)
    with ctx.unit_of_work() as session:
        return lifecycle.load_version(session, result.identifiers[0]), result


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
@pytest.mark.parametrize("folder", TEMPLATES)
def test_issue_every_template(ctx, issuers, folder, algorithm):
    org = issuer_for(folder)
    if org is None:
        pytest.skip(f"dev PKI has no organisation of kind {load_templates()[folder].issuer_kinds} "
                    f"to issue {folder} (asked of the PKI engineer)")
    actor = issuers[org][0]
    version, result = _issue(ctx, actor, example(folder, algorithm=algorithm))
    assert not result.replayed
    record = json.loads(version.record)
    # the stored bytes are exactly the canonical form that was signed
    assert canonical_json(record) == version.record.encode()
    assert version.data_hash == alg.sm3(version.record.encode()).hex()
    assert record["identifier"] == version.identifier and record["issuer"]["code"] == org
    assert record["region"] == "sh" and record["version"] == 1 and record["supersedes"] is None
    cert = x509.Certificate.load(version.signer_cert)
    assert alg.load_public_key(cert.public_key).algorithm == algorithm
    with ctx.unit_of_work() as session:
        view = licence_view(ctx, session, version)
    assert verify_envelope(view["signed_record"]).dump() == version.signer_cert
    assert view["status"] == "active"
    # the PDF carries identifier and data hash in its /LicenseSvc dictionary (docs/formats.md)
    reader = PdfFileReader(__import__("io").BytesIO(version.pdf))
    info = reader.root["/LicenseSvc"]
    assert str(info["/Id"]) == version.identifier and str(info["/Hash"]) == version.data_hash
    assert len(reader.embedded_signatures) == 1
    # the EL1 verifies against the dev key store and names the same licence
    report = verify_qr_text(version.el1, QrTrust.from_keystore(ctx.keystore), ctx.now())
    assert report.indication == "TOTAL_PASSED", report.to_text()
    assert report.licence["id"] == version.identifier
    with ctx.unit_of_work() as session:
        events = session.scalars(select(LicenceEvent).where(
            LicenceEvent.identifier == version.identifier)).all()
    assert [(e.seq, e.action, e.status) for e in events] == [(1, "issued", "active")]


def test_retry_with_same_key_returns_the_same_licence(ctx, amr):
    body = example("business_licence")
    v1, r1 = _issue(ctx, amr, body, idempotency_key="order-42")
    before = row_counts(ctx)
    v2, r2 = _issue(ctx, amr, body, idempotency_key="order-42")
    assert r2.replayed and v2.identifier == v1.identifier
    # nothing made again; the replay itself is audited (issue 14 item 6)
    assert row_counts(ctx) == dict(before, audit_entries=before["audit_entries"] + 1)
    # another key is another request: for another holder, another licence
    v3, r3 = _issue(ctx, amr, example("business_licence", 1), idempotency_key="order-43")
    assert v3.identifier != v1.identifier and not r3.replayed


def _refused(ctx, exc_type, call, *, code=None, status=None):
    """`status` is what the web layer answers for the error's kind."""
    before = row_counts(ctx)
    with pytest.raises(exc_type) as exc:
        call()
    assert row_counts(ctx) == before, "a refused request wrote something"
    err = exc.value
    assert err.message_zh and err.message_en and err.message_zh != err.message_en
    if code:
        assert err.code == code
    if status:
        assert status_of(err) == status
    return err


def test_same_key_different_body_is_refused_and_writes_nothing(ctx, amr):
    _issue(ctx, amr, example("business_licence"), idempotency_key="k1")
    other = example("business_licence", valid_from="2026-02-01")
    _refused(ctx, ServiceError, lambda: issuing.issue(ctx, amr, other, idempotency_key="k1"),
             code="idempotency-key-reused", status=422)


BAD_ID = "310101199003071235"  # check digit off by one


@pytest.mark.parametrize("name,mutate,code", [
    ("schema: missing field", lambda b: b["fields"].pop("address"), "template-invalid"),
    ("schema: wrong type", lambda b: b["fields"].update(registered_capital_wan=500), "template-invalid"),
    ("schema: extra field", lambda b: b["fields"].update(colour="red"), "template-invalid"),
    ("float anywhere", lambda b: b["fields"].update(registered_capital_wan=5.5), "licence-data-invalid"),
    ("bad USCC check", lambda b: b["holders"][0].update(code="91310000MA00000013"), "identifier-invalid"),
    ("bad dates", lambda b: b.update(valid_from="2026-02-30"), "template-invalid"),
    ("unknown type", lambda b: b.update(type="gun_licence"), "unknown-licence-type"),
    ("unknown algorithm", lambda b: b.update(algorithm="ecdsa"), "licence-data-invalid"),
    ("unknown request key", lambda b: b.update(colour="red"), "template-invalid"),
])
def test_bad_requests_write_nothing(ctx, amr, name, mutate, code):
    body = example("business_licence")
    mutate(body)
    _refused(ctx, ServiceError, lambda: issuing.issue(ctx, amr, body), code=code)


def test_bad_id_card_check_digit(ctx, issuers):
    actor = issuers[TRAFFIC_SH][0]
    body = example("driving_licence")
    body["holders"][0]["code"] = BAD_ID
    err = _refused(ctx, ServiceError, lambda: issuing.issue(ctx, actor, body), code="identifier-invalid")
    assert BAD_ID not in str(err), "the ID number must not be echoed"


@pytest.mark.parametrize("case", ["other org's type", "other org's name", "not an issuer",
                                  "client not allowed the type", "org of another region"])
def test_issuer_outside_its_authority(ctx, issuers, make_api_client, case):
    amr_client = issuers[AMR_SH][0]
    if case == "other org's type":
        actor, body = amr_client, example("driving_licence")
    elif case == "other org's name":
        actor, body = amr_client, example("business_licence", issuer_code=TRAFFIC_SH)
    elif case == "not an issuer":
        actor, body = make_api_client(["relying"], org_code=AMR_SH)[0], example("business_licence")
    elif case == "client not allowed the type":
        actor = make_api_client(["issuer"], org_code=AMR_SH, licence_types=["food_business_licence"])[0]
        body = example("business_licence")
    else:
        actor = make_api_client(["issuer"], org_code="11320000MB0000010E", region="js")[0]
        body = example("business_licence")
    _refused(ctx, ServiceError, lambda: issuing.issue(ctx, actor, body), code="issuer-authority",
             status=403)


def test_batch_is_all_or_nothing(ctx, amr):
    good = [example("business_licence"), example("food_business_licence")]
    result = issuing.issue_batch(ctx, amr, good, idempotency_key="batch-1")
    assert len(set(result.identifiers)) == 2
    assert issuing.issue_batch(ctx, amr, good, idempotency_key="batch-1").identifiers == result.identifiers
    bad = good + [example("business_licence", valid_until="1999-01-01")]
    err = _refused(ctx, ServiceError, lambda: issuing.issue_batch(ctx, amr, bad))
    assert "item 2" in err.message_en and "第 2 项" in err.message_zh
    _refused(ctx, ServiceError, lambda: issuing.issue_batch(ctx, amr, []))
    _refused(ctx, ServiceError, lambda: issuing.issue_batch(ctx, amr, [good[0]] * 101))


def test_status_slots_are_random_and_unique(ctx, amr):
    ids = issuing.issue_batch(ctx, amr, [example("business_licence", i) for i in range(6)]).identifiers
    with ctx.unit_of_work() as session:
        rows = session.scalars(select(LicenceVersion).where(LicenceVersion.identifier.in_(ids))).all()
    slots = {(r.status_list, r.status_index) for r in rows}
    assert len(slots) == 6 and {r.status_list for r in rows} == {f"sh-{AMR_SH}-0001"}
    assert sorted(r.status_index for r in rows) != list(range(6))


@pytest.fixture
def attempts(monkeypatch) -> list:
    """One item per time an issuance's body ran (`issue_one`): a rolled-back attempt that
    `run_idempotent` ran again counts twice."""
    made: list = []
    real = issuing.issue_one
    monkeypatch.setattr(issuing, "issue_one", lambda *a, **kw: made.append(1) or real(*a, **kw))
    return made


def test_a_taken_status_slot_is_skipped_not_fatal(ctx, amr, monkeypatch, attempts):
    """The slot is claimed by the INSERT itself (ON CONFLICT DO NOTHING): a taken index leaves
    the transaction usable, the next draw is used in the same attempt (the issuance is not
    rolled back and rerun), and the licence is complete."""
    from license_svc.licences import status

    first = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    with ctx.unit_of_work() as session:
        taken = session.scalar(select(LicenceVersion.status_index)
                               .where(LicenceVersion.identifier == first))
    draws = iter([taken, taken, (taken + 1) % status.LIST_ENTRIES])
    monkeypatch.setattr(status.secrets, "randbelow", lambda n: next(draws))
    attempts.clear()  # count the issuance under test only
    second = issuing.issue(ctx, amr, example("business_licence", 1)).identifiers[0]
    assert len(attempts) == 1, "a taken slot made the whole issuance roll back and run again"
    with ctx.unit_of_work() as session:
        row = session.scalars(select(LicenceVersion).where(LicenceVersion.identifier == second)).one()
        events = session.scalars(select(LicenceEvent).where(LicenceEvent.identifier == second)).all()
    assert row.status_index == (taken + 1) % status.LIST_ENTRIES and len(events) == 1

    monkeypatch.setattr(status.secrets, "randbelow", lambda n: taken)  # every draw taken
    err = _refused(ctx, ServiceError, lambda: issuing.issue(ctx, amr, example("business_licence", 2)),
                   code="status-slot-unavailable", status=503)
    assert "status-list slot" in err.message_en and "状态列表" in err.message_zh


def _in_threads(n: int, call) -> list:
    """`call(i)` in n threads started together; their results in order, or the first error."""
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    return results


def test_concurrent_issuances_with_clashing_slot_draws_all_succeed(ctx, amr, monkeypatch, attempts):
    """Six issuances at once, drawing from only 8 slots: a slot taken by another transaction,
    committed or still in flight, is skipped within the same attempt (PostgreSQL waits for that
    transaction) — never an error, never a rerun, never a shared slot."""
    from license_svc.licences import status

    monkeypatch.setattr(status.secrets, "randbelow", lambda n: random.randrange(8))
    ids = _in_threads(6, lambda i: issuing.issue(ctx, amr, example("business_licence", i)).identifiers[0])
    with ctx.unit_of_work() as session:
        slots = session.execute(select(LicenceVersion.status_list, LicenceVersion.status_index)
                                .where(LicenceVersion.identifier.in_(ids))).all()
    assert len(set(ids)) == 6 and len(set(slots)) == 6 and all(i < 8 for _, i in slots)
    assert len(attempts) == 6, "a slot clash rolled an issuance back and ran it again"


def test_an_idempotency_key_storm_makes_one_licence(ctx, amr):
    before = row_counts(ctx)
    body = example("business_licence")
    results = _in_threads(6, lambda i: issuing.issue(ctx, amr, body, idempotency_key="storm-1"))
    assert len({r.identifiers[0] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    after = row_counts(ctx)
    assert after["licence_versions"] == before["licence_versions"] + 1
    assert after["licence_idempotency_keys"] == before["licence_idempotency_keys"] + 1


def test_record_signature_verifies_with_other_implementations(ctx, amr):
    version, _ = _issue(ctx, amr, example("business_licence"))
    cert = x509.Certificate.load(version.signer_cert)
    point = cert.public_key["public_key"].native
    gmssl_pyx = pytest.importorskip("gmssl_pyx")
    assert gmssl_pyx.sm2_verify(point[1:], version.record.encode(), version.signature)
    tampered = version.record.replace("上海", "江苏", 1).encode()
    assert not gmssl_pyx.sm2_verify(point[1:], tampered, version.signature)
    assert base64.b64encode(version.signature)


def test_the_registry_seal_is_used_and_its_suspension_stops_issuance(ctx, amr):
    from license_svc.seals import registry
    from license_svc.seals.models import SealRow
    from verification.seal import verify_seal

    version, _ = _issue(ctx, amr, example("business_licence"))
    with ctx.unit_of_work() as s:
        (seal,) = s.scalars(select(SealRow).where(SealRow.org_code == AMR_SH)).all()
        trust = registry.trust(ctx, s)
        report = verify_seal(seal.der, at=ctx.now(), trust=trust)
    assert report.indication == "TOTAL_PASSED", report.to_text()
    assert seal.der in version.pdf or seal.der.hex().encode() in version.pdf.lower()
    admin = Client(client_id="test-admin", name="区域管理员", org_code="", region=ctx.region,
                   roles=frozenset({"admin"}))  # seals are managed by admins, not issuers
    with ctx.unit_of_work() as s:
        registry.change_status(ctx, s, admin, seal.es_id, "suspend", "印章核查")
    _refused(ctx, ServiceError, lambda: issuing.issue(ctx, amr, example("business_licence", 1)),
             code="licence-state", status=409)
