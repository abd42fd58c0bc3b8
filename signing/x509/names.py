"""Distinguished names for Chinese government bodies, and the USCC they carry.

Names are UTF8String (Chinese organisation names do not fit PrintableString); the country stays
PrintableString as RFC 5280 requires.  The organisation's 统一社会信用代码 (USCC, GB 32100) goes
into organizationIdentifier (2.5.4.97), the attribute X.520 defines for registration numbers.
The check character lives here because the dev PKI must mint valid codes and `signing` may not
import the service's identifier module.
"""

from __future__ import annotations

from asn1crypto import x509

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc_check_char(body17: str) -> str:
    """GB 32100-2015 check character for the first 17 characters."""
    if len(body17) != 17 or any(c not in USCC_ALPHABET for c in body17):
        raise ValueError(f"USCC body must be 17 characters of {USCC_ALPHABET}: {body17!r}")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc(body17: str) -> str:
    """Append the check character: `uscc("11310000MB0000000")`."""
    return body17 + uscc_check_char(body17)


def is_valid_uscc(code: str) -> bool:
    return (isinstance(code, str) and len(code) == 18 and code[:8].isdigit()
            and all(c in USCC_ALPHABET for c in code) and uscc_check_char(code[:17]) == code[17])


def build_name(common_name: str, *, organization: str | None = None,
               organizational_unit: str | None = None, org_code: str | None = None,
               province: str | None = None, locality: str | None = None,
               country: str = "CN") -> x509.Name:
    """A subject/issuer DN in the usual C, ST, L, O, OU, organizationIdentifier, CN order."""
    attrs = [("country_name", country), ("state_or_province_name", province),
             ("locality_name", locality), ("organization_name", organization),
             ("organizational_unit_name", organizational_unit),
             ("organization_identifier", org_code), ("common_name", common_name)]
    rdns = []
    for name_type, value in attrs:
        if not value:
            continue
        if name_type == "country_name":
            val = x509.DirectoryString(name="printable_string", value=value)
        else:
            val = x509.DirectoryString(name="utf8_string", value=value)
        rdns.append(x509.RelativeDistinguishedName([
            x509.NameTypeAndValue({"type": name_type, "value": val})]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))
