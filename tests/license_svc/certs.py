"""Throwaway self-signed certificates for unit tests that need "a key with a certificate"."""

from datetime import datetime, timedelta, timezone

from signing.x509 import build_certificate, build_name


def self_signed(key, common_name: str = "test signer"):
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    return build_certificate(subject=build_name(common_name),
                             subject_public_key=key.public_key, issuer_key=key,
                             not_before=now, not_after=now + timedelta(days=3650),
                             key_usage={"digital_signature"})
