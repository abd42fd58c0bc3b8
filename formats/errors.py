"""Errors of the producing side, each with a Chinese and an English message.

Callers (CLI, HTTP problem+json) show `message_zh` to clerks and `message_en` in logs.
"""


class SigningError(Exception):
    """Base class: something the caller asked for cannot be done safely."""

    code = "signing-error"

    def __init__(self, message_en: str, message_zh: str | None = None):
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh or message_en

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class KeyFormatError(SigningError):
    code = "key-format"


class UnsupportedAlgorithm(SigningError):
    code = "unsupported-algorithm"


class InvalidSignature(SigningError):
    """A signature did not verify: wrong key, changed message, or malformed encoding."""

    code = "invalid-signature"

    def __init__(self, message_en: str = "signature does not verify",
                 message_zh: str = "签名验证失败"):
        super().__init__(message_en, message_zh)
