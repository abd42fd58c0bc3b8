"""The 亮证 code scans: every demo licence, SM2 and RSA signed, presented by its region's node
as an EP2 fits QR version 15 at error correction M (measured on the symbol the wallet shows),
and verifies; the same licence's EP1 would not fit (why EP2 exists)."""

from datetime import timezone

from sqlalchemy import select

from license_svc.demo_seed import seed_demo
from license_svc.licences.models import LicenceVersion
from signing.qr import image, make_ep1, make_ep2
from verification.qr import QrTrust, verify_qr_text
from verification.report import TOTAL_PASSED

MAX_VERSION = 15


def _version(text: str, ec_level: str) -> int:
    return (len(image.modules(text, ec_level)) - 17) // 4


def test_every_demo_licence_presents_within_version_15_at_m(ctx):
    seed_demo(ctx)
    with ctx.unit_of_work() as s:
        versions = [(v.identifier, v.algorithm, v.el1) for v in s.scalars(select(LicenceVersion))]
    node = ctx.keystore.credential(ctx.region, "node", "sm2")
    trust = QrTrust.from_keystore(ctx.keystore)
    now = ctx.now()
    seen, ep1_versions = set(), []
    for identifier, algorithm, el1 in versions:
        text, cti = make_ep2(node.key, node.cert.dump(), region=ctx.region, el1=el1, now=now)
        assert text.startswith("EP2:")
        version = _version(text, image.EC_SCREEN)
        type_code = identifier.split(".")[5]
        print(f"{type_code} {algorithm}: EP2 {len(text)} chars, version {version}")
        assert version <= MAX_VERSION, (identifier, algorithm, len(text), version)
        report = verify_qr_text(text, trust, now.astimezone(timezone.utc))
        assert report.indication == TOTAL_PASSED, report.to_text()
        assert report.licence["id"] == identifier and report.licence["presentation"]["cti"] == cti.hex()
        seen.add((type_code, algorithm))
        ep1 = make_ep1(node.key, node.cert.dump(), region=ctx.region, el1=el1, now=now)[0]
        ep1_versions.append(_version(ep1, image.EC_SCREEN))
    assert {a for _, a in seen} == {"sm2", "rsa"} and len({t for t, _ in seen}) >= 4, seen
    assert max(ep1_versions) > MAX_VERSION  # the problem EP2 solves
