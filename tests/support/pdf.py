"""Genuine signed licences (SM2 with a bound SESeal and an SM2 timestamp; RSA PAdES B-T) made
once per test session from the test-only PKI in tests/support/material.py."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from signing.pdf import LicenceStamper
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from tests.support.material import (NOW, hierarchy, licence_page, seal_der, seal_png,
                                                 trust_for)

AT = NOW + timedelta(hours=1)
LICENCE = {"id": "1.2.156.3005.2.11100000000013338W.0001.001.T", "data_hash": "ab" * 32,
           "version": 1}

# pyHanko logs every failed path build with a traceback; the reports carry what matters.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


def timestamper(algorithm: str, label: str = "", when=NOW):
    h = hierarchy(algorithm, label)
    return InProcessTimeStamper(TimeStampAuthority(h.tsa.key, h.tsa.cert, h.tsa.chain,
                                                   clock=lambda: when))


def stamper(algorithm: str, who: str = "signer", label: str = "", with_ts: bool = True,
            with_seal: bool = True) -> LicenceStamper:
    return _stamper(algorithm, who, label, with_ts, with_seal)


@functools.lru_cache(maxsize=None)
def _stamper(algorithm: str, who: str, label: str, with_ts: bool,
             with_seal: bool) -> LicenceStamper:
    h = hierarchy(algorithm, label)
    seal = seal_der(algorithm, label, who) if with_seal and algorithm == "sm2" else None
    return LicenceStamper(getattr(h, who), seal=seal, seal_png=seal_png(),
                          timestamper=timestamper(algorithm, label) if with_ts else None)


@functools.lru_cache(maxsize=None)
def genuine(algorithm: str) -> bytes:
    return stamper(algorithm).sign(licence_page(), LICENCE)


def trust(algorithm: str, label: str = "", **kw):
    return trust_for(hierarchy(algorithm, label), **kw)
