"""The one error base of the project: bilingual, with a kind, and no HTTP in it.

Every error a person may read — a clerk at the counter, a developer in a log — carries a Chinese
and an English message.  Its `kind` says what went wrong in terms any caller can act on
(the input, a right, a missing thing, a clash with the current state, a service that is down);
the web layer alone turns a kind into an HTTP status (`license_svc.web.problems`), the CLI into
an exit code.  `code` is the stable slug clients switch on (problem+json `type`).
"""

from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """What a caller can do about an error."""

    INVALID = "invalid"            # the request or the input is wrong: fix it
    MALFORMED = "malformed"        # the request itself cannot be read (not its content)
    FORBIDDEN = "forbidden"        # the caller may not do this
    NOT_FOUND = "not-found"        # the thing named does not exist (or is not visible)
    CONFLICT = "conflict"          # it clashes with the current state: look, then retry
    UNAVAILABLE = "unavailable"    # a resource the service needs is down: retry later


class ServiceError(Exception):
    """Base class of every error of `formats`, `signing`, `verification` and the service.

    A class may declare a fixed `title_zh` / `title_en` (RFC 9457 wants titles that do not vary
    between occurrences); its messages are then the occurrence's detail."""

    code = "error"
    kind = Kind.INVALID
    title_zh: str | None = None
    title_en: str | None = None

    def __init__(self, message_en: str, message_zh: str | None = None):
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh or message_en

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class FormatError(ServiceError):
    """Bytes or text that cannot be read as the format they claim to be."""

    code = "format"


class SigningError(ServiceError):
    """Something the caller asked the producing side for cannot be done safely."""

    code = "signing-error"


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
