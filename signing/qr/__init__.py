"""QR credentials: EL1 printed licence codes and EP1/EP2 亮证 presentations (docs/formats.md).

`cose` signs COSE_Sign1 with any registered algorithm, `credentials` builds the EL1/EP1 payloads and text,
`image` turns text into QR symbols.  Verification lives in `verification.qr`.
"""

from signing.qr.cose import sign1
from signing.qr.credentials import (
    EL1_PREFIX, EP1_PREFIX, QRError, cose_from_text, el1_for_record, licence_claims, make_el1,
    make_ep1, make_ep2, mask,
)
from signing.qr.image import modules, png

__all__ = [
    "sign1", "EL1_PREFIX", "EP1_PREFIX", "QRError",
    "cose_from_text", "el1_for_record", "licence_claims", "make_el1", "make_ep1", "make_ep2", "mask",
    "modules", "png",
]
