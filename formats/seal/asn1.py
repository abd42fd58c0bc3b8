"""ASN.1 of electronic seals: GM/T 0031-2014 (v1), GB/T 38540-2020 (v4), GM/T 0031-2025 (v5).

The classes here describe the *strict* v4 encoding this project writes (DER, `critical` omitted
when false, SES_SealInfo.extDatas untagged, TBS_Sign.extDatas `[0] EXPLICIT`).  Reading goes
through `formats.seal.parse`, which walks the same structures leniently because real data
(ofdrw, vendors) differs in tagging and in DEFAULT handling.  Both sides share this module
through `formats`, the layer below both (docs/architecture.md).

Field names follow the standard's names (snake-cased); `SES_ESPictrueInfo` keeps its spelling
out of the code only: the class is `PictureInfo`.
"""

from __future__ import annotations

from asn1crypto import core

# SES_Header.ID is always "ES"; version is 1..3 in the v1 family, 4 for GB/T 38540, 5 for 0031-2025.
HEADER_ID = "ES"
VERSION_V4 = 4
VERSION_V5 = 5

# SES_ESPropertyInfo.certListType (GB/T 38540): what certList holds.
CERT_LIST_CERTS = 1
CERT_LIST_DIGESTS = 2


class Header(core.Sequence):
    _fields = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class PictureInfo(core.Sequence):
    """SES_ESPictrueInfo: picture type ("PNG", "GIF", "SVG", "OFD" …), bytes, size in mm."""

    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class CertInfoList(core.SequenceOf):
    """Signer certificates, each the DER of an X.509 certificate inside an OCTET STRING."""

    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields = [
        ("type", core.PrintableString),  # a hash name, e.g. "sm3"
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class PropertyInfo(core.Sequence):
    """SES_ESPropertyInfo (v4).  certList is an untagged CHOICE of two SEQUENCE OFs, which no
    decoder can tell apart by tag: certListType says which one it is, so the field is `Any`."""

    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SealInfo(core.Sequence):
    _fields = [
        ("header", Header),
        ("es_id", core.IA5String),
        ("property", PropertyInfo),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):
    """v4 seal: the maker signs DER(SealInfo); v5 adds an optional `[0]` timestamp."""

    _fields = [
        ("e_seal_info", SealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):
    """v4 SES_Signature: the signer signs DER(TBS_Sign); the timestamp covers the signature."""

    _fields = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]

