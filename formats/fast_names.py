"""Remembered X.509 name preparation for name comparison, for asn1crypto (installed by
`formats.libraries`).

Why: pyHanko identifies the signer and TSA certificates (SignerIdentifier, ESS signing-
certificate attributes) and builds paths by comparing names, and asn1crypto compares names
RDN by RDN, preparing every attribute value with RFC 4518 (`NameTypeAndValue._ldap_string_prep`:
regular expressions, NFKC, stringprep tables) once per *parsed object*.  Every PDF brings freshly
parsed certificates, so each verification prepared ~125 values and walked every RDN again:
about a third of its time once the certificate paths were remembered (docs/performance.md).

Both steps are pure functions of their input — the string, or the RDN's DER (the methods do
not look at `self`) — so their results are kept in bounded tables:
- `_ldap_string_prep(string)`, for strings up to `_LONGEST` characters;
- `RelativeDistinguishedName._get_types(rdn)` / `_get_values(rdn)`, keyed by the RDN's DER up
  to `_LONGEST_DER` bytes, returned as fresh copies.
Hostile certificates may carry megabytes, so longer inputs are never kept; failures (prohibited
characters) are never kept, so they raise every time as before.  Equivalence is tested in
tests/verification/test_pdf_fast_names.py.
"""

from __future__ import annotations

import functools

from asn1crypto import x509

_RDN = x509.RelativeDistinguishedName
_ORIGINAL_PREP = x509.NameTypeAndValue._ldap_string_prep
_ORIGINAL_TYPES = _RDN._get_types
_ORIGINAL_VALUES = _RDN._get_values
_LONGEST = 256
_LONGEST_DER = 1024


@functools.lru_cache(maxsize=4096)
def _prep(string: str) -> str:
    return _ORIGINAL_PREP(None, string)


def ldap_string_prep(self, string):
    if type(string) is str and len(string) <= _LONGEST:
        return _prep(string)
    return _ORIGINAL_PREP(self, string)


@functools.lru_cache(maxsize=4096)
def _types(der: bytes) -> frozenset:
    return frozenset(_ORIGINAL_TYPES(None, _RDN.load(der)))


@functools.lru_cache(maxsize=4096)
def _values(der: bytes) -> tuple:
    return tuple(_ORIGINAL_VALUES(None, _RDN.load(der)).items())


def _der(rdn) -> bytes | None:
    if type(rdn) is not _RDN:
        return None
    der = rdn.dump()
    return der if len(der) <= _LONGEST_DER else None


def get_types(self, rdn):
    der = _der(rdn)
    return set(_types(der)) if der is not None else _ORIGINAL_TYPES(self, rdn)


def get_values(self, rdn):
    der = _der(rdn)
    return dict(_values(der)) if der is not None else _ORIGINAL_VALUES(self, rdn)
