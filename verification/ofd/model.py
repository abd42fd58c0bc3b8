"""What a signed OFD package says about its signatures (GB/T 33190 §18, GM/T 0099), read from
OFD.xml → DocBody → Signatures.xml → each Signature.xml.

Locations resolve as ofdrw resolves them: DocBody paths from the package root, a Signature's
BaseLoc from the directory of Signatures.xml, and everything inside Signature.xml (References,
Seal, SignedValue) from the directory of that Signature.xml; a leading "/" means the root.
Only what verification needs is read; page content is never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from verification.ofd import safexml
from verification.ofd.package import OfdFormatError, OfdPackage, directory_of, resolve

SEAL, SIGN = "Seal", "Sign"


@dataclass(frozen=True)
class Reference:
    file_ref: str           # as written
    path: str | None        # resolved package name; None when the location itself is unusable
    check_value: str        # base64 text as written
    problem: str | None = None


@dataclass(frozen=True)
class Stamp:
    id: str | None
    page_ref: str | None
    boundary: str | None
    clip: str | None


@dataclass(frozen=True)
class SignatureFile:
    """One Signature.xml: what it protects and where its value lies."""

    path: str
    xml: bytes
    provider: dict[str, str]
    method: str | None
    date_time: str | None
    check_method: str | None
    references: tuple[Reference, ...]
    stamps: tuple[Stamp, ...]
    seal_path: str | None
    signed_value_path: str


@dataclass(frozen=True)
class SignatureEntry:
    """One <Signature> of Signatures.xml."""

    id: str | None
    type: str               # "Seal" (the default, GB/T 33190) or "Sign"
    path: str               # of its Signature.xml


@dataclass(frozen=True)
class Document:
    root_path: str
    signatures_path: str | None
    pages: dict[str, tuple[int, str]]        # page ID → (1-based page number, content path)
    entries: tuple[SignatureEntry, ...]


def read_documents(pkg: OfdPackage) -> list[Document]:
    ofd = safexml.parse(_file(pkg, "OFD.xml"), "OFD.xml", "OFD")
    bodies = list(safexml.children(ofd, "DocBody"))
    if not bodies:
        raise OfdFormatError("OFD.xml has no DocBody", "OFD.xml 中没有 DocBody")
    return [_document(pkg, body) for body in bodies]


def _document(pkg: OfdPackage, body: Element) -> Document:
    root_path = resolve("", safexml.text(body, "DocRoot"))
    doc = safexml.parse(_file(pkg, root_path), root_path, "Document")
    pages: dict[str, tuple[int, str]] = {}
    listed = safexml.child(doc, "Pages")
    for page in safexml.children(listed, "Page") if listed is not None else ():
        page_id = (page.get("ID") or "").strip()
        if not page_id or page_id in pages:
            raise OfdFormatError(f"{root_path}: page without an ID or with a repeated ID",
                                 f"{root_path}：页面缺少 ID 或 ID 重复")
        pages[page_id] = (len(pages) + 1, resolve(directory_of(root_path), page.get("BaseLoc")))
    signatures = safexml.text(body, "Signatures")
    if signatures is None:
        return Document(root_path, None, pages, ())
    signatures_path = resolve("", signatures)
    listing = safexml.parse(_file(pkg, signatures_path), signatures_path, "Signatures")
    entries = []
    for sig in safexml.children(listing, "Signature"):
        kind = (sig.get("Type") or SEAL).strip()
        if kind not in (SEAL, SIGN):
            raise OfdFormatError(f"{signatures_path}: unknown signature Type {kind[:40]!r}",
                                 f"{signatures_path}：未知的签名类型 {kind[:40]!r}")
        entries.append(SignatureEntry(sig.get("ID"), kind,
                                      resolve(directory_of(signatures_path), sig.get("BaseLoc"))))
    return Document(root_path, signatures_path, pages, tuple(entries))


def read_signature(pkg: OfdPackage, entry: SignatureEntry) -> SignatureFile:
    xml = _file(pkg, entry.path)
    root = safexml.parse(xml, entry.path, "Signature")
    here = directory_of(entry.path)
    info = safexml.child(root, "SignedInfo")
    if info is None:
        raise OfdFormatError(f"{entry.path}: no SignedInfo", f"{entry.path}：缺少 SignedInfo")
    refs_element = safexml.child(info, "References")
    refs = [] if refs_element is None else [_reference(here, r) for r in
                                            safexml.children(refs_element, "Reference")]
    provider = safexml.child(info, "Provider")
    seal = safexml.child(info, "Seal")
    seal_loc = safexml.text(seal, "BaseLoc") if seal is not None else None
    return SignatureFile(
        path=entry.path, xml=xml,
        provider=dict(provider.attrib) if provider is not None else {},
        method=safexml.text(info, "SignatureMethod"),
        date_time=safexml.text(info, "SignatureDateTime"),
        check_method=_attr(refs_element, "CheckMethod"),
        references=tuple(refs),
        stamps=tuple(Stamp(s.get("ID"), s.get("PageRef"), s.get("Boundary"), s.get("Clip"))
                     for s in safexml.children(info, "StampAnnot")),
        seal_path=resolve(here, seal_loc) if seal_loc is not None else None,
        signed_value_path=resolve(here, safexml.text(root, "SignedValue")))


def _reference(here: str, element: Element) -> Reference:
    file_ref = element.get("FileRef") or ""
    value = safexml.text(element, "CheckValue") or ""
    try:
        return Reference(file_ref, resolve(here, file_ref), value)
    except OfdFormatError as exc:
        return Reference(file_ref, None, value, str(exc))


def _attr(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    return (element.get(name) or "").strip() or None


def _file(pkg: OfdPackage, path: str) -> bytes:
    data = pkg.get(path)
    if data is None:
        raise OfdFormatError(f"{path} is missing from the package", f"文件包中缺少 {path}")
    return data
