"""TEST-ONLY certificates, keys and a licence page for the PDF tests.

Built here with asn1crypto and the algorithm layer so these tests do not depend on the dev PKI:
an SM2 and an RSA hierarchy (root -> issuing CA -> licence signer, plus a TSA and a seal maker
under the root), an unrelated "attacker" root, and an expired signer.  Never use outside tests.
"""

from __future__ import annotations

import functools
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from asn1crypto import keys, x509

from formats import algorithms as alg

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)
_SIG_ALG = {"sm2": "sm2_sm3", "rsa": "sha256_rsa"}


@dataclass
class Credential:
    key: object
    cert: x509.Certificate
    chain: list = field(default_factory=list)  # issuers up to and including the root
    algorithm: str = "sm2"
    region: str = "sh"
    org_name: str = "上海市市场监督管理局（测试）"
    org_code: str = "11310000000000000X"
    role: str = "licence_signer"


def _name(cn: str) -> x509.Name:
    return x509.Name.build({"country_name": "CN", "organization_name": "license-svc TEST ONLY",
                            "common_name": cn})


def make_cert(cn, subject_key, issuer_key, issuer_cert=None, *, ca=False, eku=None,
              not_before=None, not_after=None, key_usage=None):
    not_before = not_before or NOW - timedelta(days=365)
    not_after = not_after or NOW + timedelta(days=3650)
    subject = _name(cn.strip())  # NSS does not find issuers whose CN ends in a space
    spki = keys.PublicKeyInfo.load(subject_key.public_key.spki_der())
    exts = [
        {"extn_id": "basic_constraints", "critical": True,
         "extn_value": {"ca": ca, "path_len_constraint": 1 if ca else None}},
        {"extn_id": "key_usage", "critical": True,
         "extn_value": key_usage or ({"key_cert_sign", "crl_sign"} if ca
                                     else {"digital_signature", "non_repudiation"})},
        {"extn_id": "key_identifier", "critical": False,
         "extn_value": alg.sha256(spki["public_key"].contents)[:20]},
    ]
    if issuer_cert is not None:
        exts.append({"extn_id": "authority_key_identifier", "critical": False,
                     "extn_value": {"key_identifier": issuer_cert.key_identifier}})
    if eku:
        exts.append({"extn_id": "extended_key_usage", "critical": True, "extn_value": eku})
    sig_alg = {"algorithm": _SIG_ALG[issuer_key.algorithm]}
    tbs = x509.TbsCertificate({
        "version": "v3", "serial_number": secrets.randbits(63) + 1, "signature": sig_alg,
        "issuer": issuer_cert.subject if issuer_cert is not None else subject,
        "validity": {"not_before": x509.Time({"utc_time": not_before}),
                     "not_after": x509.Time({"utc_time": not_after})},
        "subject": subject, "subject_public_key_info": spki, "extensions": exts,
    })
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": sig_alg,
                             "signature_value": issuer_key.sign(tbs.dump())})


@dataclass
class Hierarchy:
    root: x509.Certificate
    ca: x509.Certificate
    signer: Credential
    tsa: Credential
    seal_maker: Credential
    expired_signer: Credential
    short_signer: Credential  # valid now, expires 30 days after NOW


def hierarchy(algorithm: str, label: str = "") -> Hierarchy:
    """One hierarchy per (algorithm, label) per test session."""
    return _hierarchy(algorithm, label)


@functools.lru_cache(maxsize=None)  # called with both arguments always: one cache key
def _hierarchy(algorithm: str, label: str) -> Hierarchy:
    gen = functools.partial(alg.generate_private_key, algorithm)
    root_key, ca_key = gen(), gen()
    root = make_cert(f"TEST {algorithm} root {label}", root_key, root_key, ca=True)
    ca = make_cert(f"TEST {algorithm} issuing CA {label}", ca_key, root_key, root, ca=True)

    def leaf(cn, issuer_key, issuer, chain, **kw):
        k = gen()
        return Credential(k, make_cert(cn, k, issuer_key, issuer, **kw), chain, algorithm)

    return Hierarchy(
        root=root, ca=ca,
        signer=leaf(f"TEST {algorithm} licence signer {label}", ca_key, ca, [ca, root]),
        tsa=leaf(f"TEST {algorithm} TSA {label}", root_key, root, [root],
                 eku=["time_stamping"], key_usage={"digital_signature", "non_repudiation"}),
        seal_maker=leaf(f"TEST {algorithm} seal maker {label}", root_key, root, [root]),
        expired_signer=leaf(f"TEST {algorithm} expired signer {label}", ca_key, ca, [ca, root],
                            not_before=NOW - timedelta(days=400),
                            not_after=NOW - timedelta(days=30)),
        short_signer=leaf(f"TEST {algorithm} short-lived signer {label}", ca_key, ca, [ca, root],
                          not_after=NOW + timedelta(days=30)),
    )


@functools.lru_cache(maxsize=None)
def licence_page(title: str = "营业执照（测试）") -> bytes:
    """A one-page A4 licence with a CJK font subset, made with reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    font = "Helvetica"
    try:
        pdfmetrics.registerFont(TTFont("DroidCJK",
                                       "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"))
        font = "DroidCJK"
    except Exception:  # font package absent: Latin text is enough for these tests
        title = "Business licence (TEST)"
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont(font, 24)
    c.drawCentredString(297, 760, title)
    c.setFont(font, 12)
    for i, line in enumerate(["名称：长三角测试有限公司", "统一社会信用代码：91310000TEST00000X",
                              "法定代表人：张三", "经营范围：软件开发（测试数据）",
                              "登记机关：上海市市场监督管理局（测试）"]):
        c.drawString(80, 680 - 24 * i, line if font != "Helvetica" else f"Line {i}")
    c.showPage()
    c.save()
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def seal_png(size: int = 240) -> bytes:
    """A red ring with a star on a transparent background (stand-in until signing.seal lands)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((6, 6, size - 6, size - 6), outline=(220, 0, 0, 255), width=8)
    cx = cy = size / 2
    import math
    pts = []
    for i in range(10):
        r = size * (0.18 if i % 2 == 0 else 0.07)
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    d.polygon(pts, fill=(220, 0, 0, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def seal_der(algorithm: str, label: str = "", listed: str = "signer") -> bytes:
    """A real v4 SESeal (signing.seal) made by the hierarchy's seal maker, listing one signer."""
    return _seal_der(algorithm, label, listed)


@functools.lru_cache(maxsize=None)
def _seal_der(algorithm: str, label: str, listed: str) -> bytes:
    from signing.seal import SEAL_TYPE_ORGANISATION, make_seal, new_seal_id
    from signing.seal import SealPicture

    h = hierarchy(algorithm, label)
    cred = getattr(h, listed)
    return make_seal(maker_key=h.seal_maker.key, maker_cert=h.seal_maker.cert, es_id=new_seal_id(),
                     name="证照专用章（测试）", seal_type=SEAL_TYPE_ORGANISATION,
                     picture=SealPicture(seal_png(), 42, 42), signer_certs=[cred.cert],
                     valid_start=NOW - timedelta(days=300), valid_end=NOW + timedelta(days=3000),
                     created=NOW - timedelta(days=300))


def trust_for(h: Hierarchy, **kw):
    from verification.pdf import PdfTrust

    return PdfTrust(signer_roots=[h.root], tsa_roots=[h.root], seal_maker_roots=[h.root], **kw)
