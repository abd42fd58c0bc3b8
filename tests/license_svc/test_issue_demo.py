"""`make run` starts with demo licences: seeded once per region, through the real pipeline."""

from sqlalchemy import func, select

from license_svc.demo_seed import seed_demo
from license_svc.licences.models import LicenceEvent, LicenceVersion


def test_demo_licences_seeded_once(ctx):
    seed_demo(ctx)
    with ctx.unit_of_work() as s:
        count = s.scalar(select(func.count()).select_from(LicenceVersion))
        actions = set(s.scalars(select(LicenceEvent.action)))
        algorithms = set(s.scalars(select(LicenceVersion.algorithm)))
    assert count >= 6 and algorithms == {"sm2", "rsa"}
    assert {"issued", "suspended", "revoked", "superseded", "amended"} <= actions
    seed_demo(ctx)
    with ctx.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(LicenceVersion)) == count
