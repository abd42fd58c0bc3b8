"""Migration licences_unique_0001 on a register that already holds duplicates (the old demo
seeded every licence twice): licences in force get their uniqueness key, newest first, so the
newest of duplicates keeps it and the older ones are counted in a warning; revoked licences get
none; without the holder-reference secret nothing gets a key and the warning says so."""

from __future__ import annotations

import logging

import pytest
from alembic import command
from sqlalchemy import select, update

from license_svc.db import upgrade
from license_svc.db.migrate import alembic_config
from license_svc.licences import issue as issuing
from license_svc.licences import lifecycle
from license_svc.licences.errors import DuplicateLicence
from license_svc.licences.models import LicenceVersion
from tests.support.issuing import TRAFFIC_SH, example


def _keys(ctx) -> dict[str, str | None]:
    with ctx.unit_of_work() as s:
        return dict(s.execute(select(LicenceVersion.identifier, LicenceVersion.unique_key)).all())


@pytest.fixture
def stored(ctx, amr, issuers):
    """Two copies of one business licence in force, a driving licence, a revoked food business
    licence — then the database taken back to before licences_unique_0001."""
    older = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    with ctx.unit_of_work() as s:  # as if stored before the rule: the copy below is allowed
        s.execute(update(LicenceVersion).values(unique_key=None))
    newer = issuing.issue(ctx, amr, example("business_licence")).identifiers[0]
    driving = issuing.issue(ctx, issuers[TRAFFIC_SH][0], example("driving_licence")).identifiers[0]
    food = issuing.issue(ctx, amr, example("food_business_licence")).identifiers[0]
    with ctx.unit_of_work() as s:
        lifecycle.revoke(ctx, s, food, amr, "依法吊销")
    with ctx.engine.begin() as conn:
        cfg = alembic_config(ctx.engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "licences_ofd_0001")
    yield older, newer, driving, food
    upgrade(engine=ctx.engine)  # whatever happened, leave the database at the heads


def test_upgrade_keys_the_licences_in_force_newest_first(ctx, amr, stored, caplog):
    older, newer, driving, food = stored
    with caplog.at_level(logging.INFO):
        upgrade(ctx.settings)
    keys = _keys(ctx)
    assert keys[older] is None and keys[newer] and keys[driving] and keys[food] is None
    assert "1 licence(s) in force duplicate a newer one" in caplog.text
    with pytest.raises(DuplicateLicence) as exc:  # the rule holds from now on
        issuing.issue(ctx, amr, example("business_licence"))
    assert exc.value.existing == newer


def test_upgrade_without_the_secret_keys_nothing_and_says_so(ctx, stored, caplog):
    with caplog.at_level(logging.WARNING):
        upgrade(engine=ctx.engine)
    assert set(_keys(ctx).values()) == {None}
    assert "3 licence(s) in force got no uniqueness key" in caplog.text
