"""PDF tokens as bytes (ISO 32000-1 §7.3): numbers and strings, written the one way we write them.

Why one copy: licence pages (`signing.render`) and the signature revision added to them
(`signing.pdf.fast_stamp`) are both written without a PDF library, and tests compare their
bytes with what was written before and with what pyHanko writes; two writers of the same token
could drift apart unnoticed.
"""

from __future__ import annotations


def num(x: float) -> str:
    """A PDF number: integers bare, others with at most 4 decimals."""
    if x == int(x):
        return str(int(x))
    return f"{x:.4f}".rstrip("0").rstrip(".")


def literal_string(s: str) -> bytes:
    """`(…)` with the three characters that must be escaped escaped; `s` must be Latin-1."""
    raw = s.encode("latin-1")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def text_string(s: str) -> bytes:
    """A PDF text string: literal for printable ASCII, UTF-16BE with BOM (hex) otherwise."""
    if s.isascii() and s.isprintable():
        return literal_string(s)
    return b"<feff" + s.encode("utf-16-be").hex().encode() + b">"
