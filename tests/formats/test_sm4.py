"""SM4-GCM (formats/algorithms/sm4.py): the RFC 8998 (A.1) known answer, and what must not open —
a changed byte, other associated data, another key, a truncated value."""

from __future__ import annotations

import os

from formats.algorithms import sm4

KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
NONCE = bytes.fromhex("00001234567800000000ABCD")
AAD = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
PLAIN = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                      "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
CIPHER = bytes.fromhex("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                       "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D")
TAG = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")


def test_rfc8998_known_answer():
    assert sm4.open_sealed(KEY, NONCE + CIPHER + TAG, AAD) == PLAIN


def test_round_trip_with_a_fresh_nonce_each_time():
    key = os.urandom(sm4.KEY_BYTES)
    a, b = sm4.seal(key, b"310101199003071230", b"client"), sm4.seal(key, b"310101199003071230", b"client")
    assert a != b and b"310101199003071230" not in a
    assert sm4.open_sealed(key, a, b"client") == sm4.open_sealed(key, b, b"client") == b"310101199003071230"


def test_what_does_not_open():
    key = os.urandom(sm4.KEY_BYTES)
    sealed = sm4.seal(key, b"310101199003071230", b"client-a")
    changed = sealed[:15] + bytes([sealed[15] ^ 1]) + sealed[16:]
    assert sm4.open_sealed(key, changed, b"client-a") is None
    assert sm4.open_sealed(key, sealed, b"client-b") is None
    assert sm4.open_sealed(os.urandom(sm4.KEY_BYTES), sealed, b"client-a") is None
    assert sm4.open_sealed(key, sealed[:20], b"client-a") is None
