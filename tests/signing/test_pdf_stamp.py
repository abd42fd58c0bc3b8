"""The stamping side: profile of the signature pyHanko writes for us, held-key signers, the
SESeal attribute, the appearance and the reserved /Contents size."""

import dataclasses
import gc
import io
import weakref

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader

from formats import oids
from formats.errors import SigningError
from signing.pdf import HeldKeySigner, StamperCache, sign_licence_pdf
from signing.pdf.stamp import DEFAULT_SEAL_BOX, FIELD_NAME, LicenceStamper
from tests.support.material import hierarchy, licence_page, seal_der, seal_png
from tests.support.pdf import LICENCE, genuine, stamper


def _sig(data):
    r = PdfFileReader(io.BytesIO(data))
    (emb,) = r.embedded_signatures
    return r, emb


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_certification_profile(algorithm):
    r, emb = _sig(genuine(algorithm))
    assert emb.field_name == FIELD_NAME
    assert emb.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert emb.docmdp_level.name == "NO_CHANGES"  # certification, P=1
    si = emb.signer_info
    if algorithm == "sm2":
        assert si["digest_algorithm"]["algorithm"].dotted == oids.SM3
        assert si["signature_algorithm"]["algorithm"].dotted == oids.SM2_WITH_SM3
        types = [a["type"].dotted for a in si["signed_attrs"]]
        assert oids.SESEAL_SIGNED_ATTRIBUTE in types
    else:
        assert si["digest_algorithm"]["algorithm"].native == "sha256"
        assert si["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    # B-T: an RFC 3161 signature timestamp as unsigned attribute
    assert [a["type"].native for a in si["unsigned_attrs"]] == ["signature_time_stamp_token"]
    lic = r.root["/LicenseSvc"]
    assert lic["/Id"] == LICENCE["id"] and lic["/Hash"] == LICENCE["data_hash"]


def test_seal_attribute_is_the_exact_seseal():
    _, emb = _sig(genuine("sm2"))
    (attr,) = [a for a in emb.signer_info["signed_attrs"]
               if a["type"].dotted == oids.SESEAL_SIGNED_ATTRIBUTE]
    assert attr["values"][0].dump() == seal_der("sm2", "", "signer")


def test_visible_appearance_is_the_seal_picture_with_soft_mask():
    r, emb = _sig(genuine("sm2"))
    widget = emb.sig_field
    rect = [float(x) for x in widget["/Rect"]]
    assert rect[2] - rect[0] > 50 and rect[3] - rect[1] > 50
    ap = widget["/AP"]["/N"]
    xobjs = ap["/Resources"]["/XObject"]
    found = []

    def walk(res):
        for name, ref in res.items():
            o = ref.get_object()
            if o.get("/Subtype") == "/Image":
                found.append(o)
            elif "/Resources" in o and "/XObject" in o["/Resources"]:
                walk(o["/Resources"]["/XObject"])
    walk(xobjs)
    assert found and "/SMask" in found[0]


def test_contents_reservation_is_not_excessive():
    _, emb = _sig(genuine("rsa"))
    blob = bytes(emb.sig_object["/Contents"])
    used = len(cms.ContentInfo.load(blob).dump())
    assert used <= len(blob) < used * 3 + 16384


def test_sm2_signer_refuses_other_digests():
    h = hierarchy("sm2")
    s = HeldKeySigner(h.signer.key, h.signer.cert, h.signer.chain)
    import asyncio
    with pytest.raises(SigningError):
        asyncio.run(s.async_sign_raw(b"x", "sha256"))
    assert len(asyncio.run(s.async_sign_raw(b"x", "sm3", dry_run=True))) == 72
    sig = asyncio.run(s.async_sign_raw(b"attrs", "sm3"))
    h.signer.key.public_key.verify(sig, b"attrs")


def test_signers_refuse_a_key_that_does_not_match():
    sm2, rsa = hierarchy("sm2"), hierarchy("rsa")
    with pytest.raises(SigningError):
        HeldKeySigner(sm2.tsa.key, sm2.signer.cert)
    with pytest.raises(SigningError):
        HeldKeySigner(sm2.signer.key, rsa.signer.cert)
    with pytest.raises(SigningError):
        HeldKeySigner(rsa.tsa.key, rsa.signer.cert)


@pytest.mark.parametrize("bad", [b"", b"not a pdf", b"%PDF-1.4\ngarbage"])
def test_bad_input_pdf_is_a_signing_error(bad):
    with pytest.raises(SigningError):
        stamper("rsa").sign(bad)


def test_bad_seal_and_picture_are_signing_errors():
    h = hierarchy("sm2")
    with pytest.raises(SigningError):
        LicenceStamper(h.signer, seal=b"\x30\x03\x02\x01", seal_png=seal_png())
    with pytest.raises(SigningError):
        LicenceStamper(h.signer, seal_png=b"\x89PNG garbage")


def test_sign_licence_pdf_reuses_the_stamper():
    h = hierarchy("rsa")
    cache = StamperCache()
    a = sign_licence_pdf(licence_page(), h.signer, seal_png=seal_png(), licence=LICENCE, cache=cache)
    b = sign_licence_pdf(licence_page(), h.signer, seal_png=seal_png(), licence=LICENCE, cache=cache)
    assert len(cache) == 1 and a != b  # same stamper, fresh signature
    _sig(b)


def test_stamper_cache_keys_on_the_credential_itself_not_its_id():
    """The old cache keyed on id(credential): once a credential was collected, the next one at
    that address signed with the dead one's stamper.  An equal but distinct credential gets its
    own stamper, and a cached one stays alive while cached."""
    h = hierarchy("rsa")
    cache = StamperCache()
    first = dataclasses.replace(h.signer)
    gone = weakref.ref(first)
    one = cache.stamper(first, None, seal_png(), DEFAULT_SEAL_BOX, None)
    del first
    gc.collect()
    assert gone() is not None  # held by the cache: its id cannot be taken over
    other = dataclasses.replace(h.signer)  # equal, not the same
    assert cache.stamper(other, None, seal_png(), DEFAULT_SEAL_BOX, None) is not one
    assert len(cache) == 2
    small = StamperCache(size=1)
    small.stamper(h.signer, None, seal_png(), DEFAULT_SEAL_BOX, None)
    small.stamper(other, None, seal_png(), DEFAULT_SEAL_BOX, None)
    assert len(small) == 1


def test_picture_defaults_to_the_one_in_the_seal():
    h = hierarchy("sm2")
    st = LicenceStamper(h.signer, seal=seal_der("sm2", "", "signer"))
    assert st.style is not None


@pytest.mark.parametrize("algorithm", ["sm2", "rsa"])
def test_preencoded_cms_equals_pyhankos(algorithm, monkeypatch):
    """signing.pdf.fast_cms writes the same SignedData as pyHanko's generic path (apart from
    message digest, signature and timestamp, which differ per signature)."""
    from signing.pdf.fast_cms import FastCMSMixin

    def cms_of(pdf):
        return _sig(pdf)[1].signed_data

    def strip(sd):
        n = sd.native
        si = n["signer_infos"][0]
        si["signature"] = si["unsigned_attrs"] = None
        si["signed_attrs"] = [a for a in si["signed_attrs"] if a["type"] != "message_digest"]
        n["certificates"] = sorted(c.dump() for c in sd["certificates"])
        return n

    st = stamper(algorithm)
    fast = cms_of(st.sign(licence_page(), LICENCE))
    assert st.signer._template is not None  # the fast path was taken

    async def generic(self, *a, **k):
        return await super(FastCMSMixin, self).async_sign(*a, **k)

    monkeypatch.setattr(FastCMSMixin, "async_sign", generic)
    slow = cms_of(st.sign(licence_page(), LICENCE))
    assert strip(fast) == strip(slow)
    ts = [a["type"].native for a in fast["signer_infos"][0]["unsigned_attrs"]]
    assert ts == ["signature_time_stamp_token"]
