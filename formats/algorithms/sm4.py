"""SM4-GCM (GB/T 32907 block cipher, GCM mode), through pyca/cryptography: authenticated
encryption for the little the service must keep secret at rest (a signed-in citizen's ID
number in the page session, license_svc/auth/holder_seal.py).

The sealed form is nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes); `aad` binds it to what it
belongs to, so a sealed value copied to another row does not open there.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES, _NONCE, _TAG = 16, 12, 16


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plaintext) + enc.finalize()
    return nonce + body + enc.tag


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes | None:
    """The plaintext, or None when `sealed` was altered, is bound to other `aad`, or was sealed
    under another key."""
    if len(sealed) < _NONCE + _TAG:
        return None
    nonce, body, tag = sealed[:_NONCE], sealed[_NONCE:-_TAG], sealed[-_TAG:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        return None
