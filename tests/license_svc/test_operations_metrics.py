"""/metrics carries what pages an operator at night: certificate and seal expiry in days,
audit sequencing lag and checkpoint age, status-list slots left — each checked against the
value computed independently here, and each moving when the thing it measures moves."""

from __future__ import annotations

import re
from datetime import timedelta

from license_svc import audit
from license_svc.licences.issue import issue
from license_svc.licences.status import LIST_FILL_LIMIT, MAX_PARTS
from tests.support.issuing import AMR_SH, example


def _series(text: str, name: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        m = re.match(rf"^{name}(\{{.*\}})? (\S+)$", line)
        if m:
            out[m.group(1) or ""] = float(m.group(2))
    return out


def test_operations_metrics(ctx, http, amr, make_api_client, clock):
    admin = make_api_client(["admin"])[1]
    made = http.post("/api/v1/seals", headers=admin,
                     json={"org_code": AMR_SH, "name": "合同专用章", "type": 3})
    assert made.status_code == 201, made.text
    es_id = made.json()["id"]
    issue(ctx, amr, example("business_licence"))
    text = http.get("/metrics").text

    certs = _series(text, "license_svc_certificate_expiry_days")
    item = ctx.keystore.item("sh-audit-log-sm2")
    not_after = ctx.keystore.certificate(item["id"])["tbs_certificate"]["validity"]["not_after"].native
    label = '{id="sh-audit-log-sm2",region="sh",role="audit_log"}'
    assert abs(certs[label] - (not_after - clock()).total_seconds() / 86400) < 0.01
    assert not any("revoked-demo" in k for k in certs)  # only usable keys page anyone
    assert any('region="federation"' in k for k in certs)

    seal_days = [v for k, v in _series(text, "license_svc_seal_expiry_days").items() if es_id in k]
    assert len(seal_days) == 1 and seal_days[0] > 0

    slots = _series(text, "license_svc_status_list_slots_left")
    assert slots[f'{{issuer="{AMR_SH}"}}'] == (MAX_PARTS - 1) * LIST_FILL_LIMIT + LIST_FILL_LIMIT - 1
    queued = _series(text, "license_svc_audit_queue_entries")[""]
    assert queued >= 1  # the issuance's entry, not sequenced yet

    clock.advance(seconds=90)
    text = http.get("/metrics").text
    assert _series(text, "license_svc_audit_sequencing_lag_seconds")[""] >= 90
    audit.publish(ctx)  # sequences and signs a checkpoint
    clock.advance(seconds=30)
    text = http.get("/metrics").text
    assert _series(text, "license_svc_audit_queue_entries")[""] == 0
    assert _series(text, "license_svc_audit_sequencing_lag_seconds")[""] == 0
    assert 29 <= _series(text, "license_svc_audit_checkpoint_age_seconds")[""] <= 31
    assert _series(text, "license_svc_audit_tree_size")[""] >= queued
    issue(ctx, amr, example("business_licence", 1))
    after = _series(http.get("/metrics").text, "license_svc_status_list_slots_left")
    assert after[f'{{issuer="{AMR_SH}"}}'] == slots[f'{{issuer="{AMR_SH}"}}'] - 1
