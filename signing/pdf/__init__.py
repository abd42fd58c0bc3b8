"""PDF signing: a pyHanko `Signer` holding a loaded key of any registered algorithm, the SESeal
signed attribute, and `sign_licence_pdf` (certification signature with the seal picture as its
appearance).

See docs/pdf.md for the signature profile and why each choice was made.
"""

from signing.pdf.held_key import HeldKeySigner
from signing.pdf.stamp import LicenceStamper, StamperCache, sign_licence_pdf

__all__ = ["HeldKeySigner", "LicenceStamper", "StamperCache", "sign_licence_pdf"]
