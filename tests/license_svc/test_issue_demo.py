"""`make run` starts with demo licences: seeded once per region and once per holder, through the
real pipeline, each organisation signing with its own algorithm (issue 16 item 4)."""

from collections import Counter

from sqlalchemy import func, select

from license_svc.demo_seed import seed_demo
from license_svc.licences.models import LicenceEvent, LicenceVersion
from license_svc.templates import load_templates


def test_demo_licences_seeded_once_per_holder(ctx):
    seed_demo(ctx)
    with ctx.unit_of_work() as s:
        versions = s.scalars(select(LicenceVersion)).all()
        actions = set(s.scalars(select(LicenceEvent.action)))
    types = {t.type_code for t in load_templates().values()}
    # one licence per type; the amended one has a second version
    assert {v.type_code for v in versions} == types and len({v.family for v in versions}) == len(types)
    assert sorted(Counter(v.family for v in versions).values()) == [1] * (len(types) - 1) + [2]
    in_force = [v for v in versions if v.unique_key is not None]
    assert len(in_force) == len({(v.type_code, v.holder_ref) for v in in_force}) == len(types) - 1
    # the algorithm is the organisation's: one per issuer, both kinds in the demo
    by_issuer = {}
    for v in versions:
        by_issuer.setdefault(v.issuer_code, set()).add(v.algorithm)
    assert all(len(a) == 1 for a in by_issuer.values())
    assert set().union(*by_issuer.values()) == {"sm2", "rsa"}
    assert {"issued", "suspended", "reinstated", "revoked", "superseded", "amended"} <= actions

    seed_demo(ctx)  # a restart seeds nothing, not even the revoked licence's holder again
    with ctx.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(LicenceVersion)) == len(versions)
