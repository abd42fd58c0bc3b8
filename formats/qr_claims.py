"""The claims of the EL1 and EP1 QR credentials (docs/formats.md "EL1/EP1 QR", DESIGN §7).

    EL1 = "EL1:" + Base45(zlib(COSE_Sign1 by the issuing organisation's licence signer))
          payload {1: iss USCC, 6: iat, 4: exp, -70000: licence claims}
    EP1 = "EP1:" + Base45(zlib(COSE_Sign1 by the holder region's node))
          payload {1: region, 6: iat, 4: exp <= iat+60, 7: cti, -70001: EL1 COSE_Sign1 bytes}

The producer (`signing.qr`), the verifier (`verification.qr`) and the templates (which claims
a type may print) all read the keys from here.
"""

from __future__ import annotations

from datetime import timedelta, timezone

EL1_PREFIX = "EL1:"
EP1_PREFIX = "EP1:"
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7
CLAIM_LICENCE = -70000
CLAIM_EL1 = -70001
EP1_MAX_LIFETIME = 60  # seconds an EP1 presentation is valid
# The keys of the -70000 map, in the order docs/formats.md lists them: identifier, type code,
# holder name, holder code, holder code type, valid from, valid until, region, version.
LICENCE_CLAIM_KEYS = ("id", "t", "n", "h", "hid", "vf", "vu", "r", "v")
CHINA_TZ = timezone(timedelta(hours=8))  # licence dates are Beijing calendar dates
