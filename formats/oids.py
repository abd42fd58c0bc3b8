"""OIDs, algorithm names and the default SM2 user ID: the constants both sides share.

This module is the one place `verification` may take names from `signing` besides the
algorithm layer.  The asn1crypto names below mean something only once `formats.libraries.install()`
has taught asn1crypto these OIDs (asn1crypto 1.5 knows none of them); importing this module
changes nothing outside it.
"""

SM2_CURVE = "1.2.156.10197.1.301"
SM2_SIGN = "1.2.156.10197.1.301.1"  # GM/T 0006 "SM2-1"; accepted when verifying
SM3 = "1.2.156.10197.1.401"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM2_SIGNATURE_OIDS = frozenset({SM2_WITH_SM3, SM2_SIGN})

# GB/T 32918 / GM/T 0009 default distinguishing identifier, used everywhere in this project.
DEFAULT_SM2_UID = b"1234567812345678"

# asn1crypto names for the OIDs above.
SM2_CURVE_NAME = "sm2p256v1"
SM3_NAME = "sm3"
SM2_SM3_NAME = "sm2_sm3"
SM2_SIGN_NAME = "sm2sign"

# license-svc's private OID arc: a UUID OID (ITU-T X.667, 2.25.<uuid as integer>), which needs
# no registration.  Sub-arcs are listed in docs/formats.md.
LICENSE_SVC_ARC = "2.25.52070054592245582358171619290620815449"
# CMS signed attribute carrying the DER GB/T 38540 SESeal bound to a PDF signature.
SESEAL_SIGNED_ATTRIBUTE = LICENSE_SVC_ARC + ".1"

ALG_SM2 = "sm2"
ALG_RSA = "rsa"

