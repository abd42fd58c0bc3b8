"""PDF signing: pyHanko `Signer`s holding loaded SM2/RSA keys, the SESeal signed attribute,
and `sign_licence_pdf` (certification signature with the seal picture as its appearance).

See docs/pdf.md for the signature profile and why each choice was made.
"""

from signing.pdf.rsa_signer import RSASigner
from signing.pdf.sm2_signer import SM2Signer
from signing.pdf.stamp import LicenceStamper, StamperCache, sign_licence_pdf

__all__ = ["SM2Signer", "RSASigner", "LicenceStamper", "StamperCache", "sign_licence_pdf"]
