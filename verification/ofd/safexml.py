"""Parse the XML of an OFD package with no DTD, no entities and no external references.

OFD files never need a DTD (GB/T 33190 defines them by XML Schema), so one is refused outright:
that closes entity-expansion bombs ("billion laughs"), external entities and DTD fetches in one
rule, via defusedxml over the stdlib parser.  Names are matched by local name: producers write
the `ofd:` namespace, but not all of them consistently on every element.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_et

from verification.ofd.package import OfdFormatError

MAX_XML = 8 * 1024 * 1024


def parse(data: bytes, path: str, root: str) -> Element:
    """The root element of `data` (the file `path`), which must be named `root`."""
    if len(data) > MAX_XML:
        raise OfdFormatError(f"{path}: XML larger than {MAX_XML // (1024 * 1024)} MiB",
                             f"{path}：XML 文件过大")
    try:
        element = safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden, ValueError, …
        raise OfdFormatError(f"{path}: not well-formed or forbidden XML "
                             f"({exc.__class__.__name__}: {str(exc)[:150]})",
                             f"{path}：XML 格式错误或含有禁止的内容（DTD/实体）") from None
    if local(element.tag) != root:
        raise OfdFormatError(f"{path}: root element is {local(element.tag)!r}, expected {root!r}",
                             f"{path}：根元素应为 {root}")
    return element


def local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: Element, name: str) -> Iterator[Element]:
    return (c for c in element if local(c.tag) == name)


def child(element: Element, name: str) -> Element | None:
    return next(children(element, name), None)


def text(element: Element | None, name: str | None = None) -> str | None:
    """The stripped text of `element` (or of its child `name`), None when absent or empty."""
    if element is not None and name is not None:
        element = child(element, name)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None
