"""Migration licences_0002 on a database that already holds licences: every stored licence gets
its first holder from the stored reference, and a marriage certificate's second spouse too —
but only when the upgrade has the region's holder-reference secret that produced the stored
references; otherwise it says how many licences keep their first holder only."""

from __future__ import annotations

import dataclasses
import logging
import secrets

import pytest
from alembic import command
from sqlalchemy import select

from license_svc import audit
from license_svc.db import upgrade
from license_svc.db.migrate import alembic_config
from license_svc.licences.models import LicenceHolder
from tests.support.grants import PERSON, issue_licence
from tests.support.issuing import CIVIL_SH, TRAFFIC_SH

SPOUSE2 = "310104199303221041"


def _back_to_licences_0001(engine) -> None:
    with engine.begin() as conn:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "licences_0001")


def _holders(ctx) -> set[tuple[str, int, str]]:
    with ctx.unit_of_work() as s:
        return set(s.execute(select(LicenceHolder.identifier, LicenceHolder.position,
                                    LicenceHolder.holder_ref)).all())


@pytest.fixture
def stored(ctx):
    """A marriage certificate and a driving licence issued before licences_0002."""
    marriage = issue_licence(ctx, "marriage_certificate", CIVIL_SH, ["marriage_certificate"])
    driving = issue_licence(ctx, "driving_licence", TRAFFIC_SH, ["driving_licence"])
    _back_to_licences_0001(ctx.engine)
    yield marriage, driving
    upgrade(engine=ctx.engine)  # whatever happened, leave the database at the heads


def test_upgrade_with_the_secret_fills_every_holder(ctx, stored, caplog):
    marriage, driving = stored
    ref1, ref2 = audit.holder_reference(ctx, PERSON), audit.holder_reference(ctx, SPOUSE2)
    upgrade(ctx.settings)
    assert _holders(ctx) == {(marriage, 0, ref1), (marriage, 1, ref2), (driving, 0, ref1)}
    assert "keep their first holder only" not in caplog.text


@pytest.mark.parametrize("secret", ["none", "other"])
def test_upgrade_without_the_right_secret_keeps_the_first_holder_and_says_so(
        ctx, stored, tmp_path, caplog, secret):
    marriage, driving = stored
    settings = None
    if secret == "other":  # a region secret that did not make the stored references
        settings = dataclasses.replace(ctx.settings, data_dir=tmp_path / "elsewhere")
        path = settings.data_dir / "secrets" / f"holder-ref-{settings.region}.key"
        path.parent.mkdir(parents=True)
        path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    with caplog.at_level(logging.WARNING):
        if settings is None:
            upgrade(engine=ctx.engine)
        else:
            upgrade(settings)
    ref1 = audit.holder_reference(ctx, PERSON)
    assert _holders(ctx) == {(marriage, 0, ref1), (driving, 0, ref1)}
    assert "1 stored licence(s) with several holders keep their first holder only" in caplog.text
