"""电子签章 on an OFD document someone brings (the OFD half of the stamping service): the
organisation's seal at a position, over the first occurrence of a keyword, or as a 骑缝章
across every page — as one more GB/T 38540 seal signature (`seal_signature`), so signatures
already in the document stay valid.

Positions are millimetres from the page's top-left corner (OFD's own coordinates).  `x_mm`,
`y_mm` place the seal picture's top-left corner; a keyword puts the picture's centre on the
centre of the keyword's first occurrence (searched page by page, within one TextCode); a
straddle stamp (骑缝章) cuts the picture into as many vertical slices as the document has pages
and shows slice i at the right edge of page i, vertically centred — one StampAnnot per page,
each the whole picture clipped to its slice (StampAnnot/@Clip, as ofdrw does).  Only the first
document of a package (its first DocBody) is stamped.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree.ElementTree import Element

from formats.seal.parse import SealFormatError, parse_seal
from signing.ofd.package import read_files
from signing.ofd.seal_signature import (OfdSignError, SealSigner, Stamp, add_seal_signature,
                                        child_text, directory_of, parse_xml, qname, resolve)
from signing.ofd.writer import zip_package

MAX_SIZE_MM = 100.0


@dataclass(frozen=True)
class Page:
    id: str
    path: str
    width: float
    height: float


def stamp_ofd(document: bytes, *, seal_signer: SealSigner, page: int | None, x_mm: float | None,
              y_mm: float | None, keyword: str | None, straddle: bool,
              size_mm: float | None = None, when: datetime | None = None) -> bytes:
    """`document` sealed once more by `seal_signer`.  Exactly one of page+x_mm+y_mm, keyword,
    straddle; `size_mm` the picture's width (height in proportion), else the seal's own size."""
    modes = [page is not None or x_mm is not None or y_mm is not None, bool(keyword), straddle]
    if sum(modes) != 1:
        raise OfdSignError("give exactly one of: page with x_mm and y_mm, keyword, straddle",
                           "须且只能指定一种盖章方式：页码与坐标、关键字或骑缝章")
    files = read_files(document)
    pages = _pages(files)
    w, h = _size(seal_signer.seal_der, size_mm)
    if modes[0]:
        stamps = [_at(pages, page, x_mm, y_mm, w, h)]
    elif keyword:
        stamps = [_over_keyword(files, pages, keyword, w, h)]
    else:
        stamps = _straddle(pages, w, h)
    files = _with_signatures_entry(files)
    sealed = add_seal_signature(files, seal_signer, stamps, when or datetime.now(timezone.utc))
    return zip_package(sealed)


def _size(seal_der: bytes, size_mm: float | None) -> tuple[float, float]:
    try:
        seal = parse_seal(seal_der)
    except SealFormatError as exc:
        raise OfdSignError(f"the seal cannot be read: {exc.message_en}",
                           f"印章无法读取：{exc.message_zh}") from None
    w, h = float(seal.width_mm), float(seal.height_mm)
    if size_mm is not None:
        if not (isinstance(size_mm, (int, float)) and math.isfinite(size_mm)
                and 0 < size_mm <= MAX_SIZE_MM):
            raise OfdSignError(f"size_mm must be a number in (0, {MAX_SIZE_MM:g}]",
                               f"印章尺寸须在 0 到 {MAX_SIZE_MM:g} 毫米之间")
        w, h = float(size_mm), float(size_mm) * h / w
    return w, h


def _pages(files: dict[str, bytes]) -> list[Page]:
    body = parse_xml(files["OFD.xml"], "OFD.xml").find(qname("DocBody"))
    root_loc = child_text(body, "DocRoot")
    if root_loc is None:
        raise OfdSignError("OFD.xml names no document (DocRoot)", "OFD.xml 未指定文档（DocRoot）")
    root_path = resolve("", root_loc)
    doc = parse_xml(_file(files, root_path), root_path)
    default = _box(doc.find(f"{qname('CommonData')}/{qname('PageArea')}"), root_path)
    pages = []
    listed = doc.find(qname("Pages"))
    for p in listed.findall(qname("Page")) if listed is not None else ():
        path = resolve(directory_of(root_path), p.get("BaseLoc") or "")
        content = parse_xml(_file(files, path), path)
        area = _box(content.find(qname("Area")), path) or default
        if area is None:
            raise OfdSignError(f"{path}: no page size", f"{path}：缺少页面尺寸")
        pages.append(Page((p.get("ID") or "").strip(), path, area[2], area[3]))
    if not pages or any(not p.id for p in pages):
        raise OfdSignError("the document has no pages, or a page without an ID",
                           "文档没有页面，或有页面缺少 ID")
    return pages


def _box(area: Element | None, where: str) -> tuple[float, ...] | None:
    text = child_text(area, "PhysicalBox")
    if text is None:
        return None
    try:
        box = tuple(float(v) for v in text.split())
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        raise OfdSignError(f"{where}: PhysicalBox is not x y w h", f"{where}：PhysicalBox 无效")
    return box


def _file(files: dict[str, bytes], path: str) -> bytes:
    data = files.get(path)
    if data is None:
        raise OfdSignError(f"{path} is missing from the package", f"文件包中缺少 {path}")
    return data


def _at(pages: list[Page], page: int | None, x: float | None, y: float | None,
        w: float, h: float) -> Stamp:
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= len(pages):
        raise OfdSignError(f"page must be 1..{len(pages)}", f"页码须在 1 到 {len(pages)} 之间")
    target = pages[page - 1]
    for name, v, limit in (("x_mm", x, target.width), ("y_mm", y, target.height)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v < limit):
            raise OfdSignError(f"{name} must be within the page (0..{limit:g} mm)",
                               f"{name} 须在页面范围内（0 到 {limit:g} 毫米）")
    return Stamp(target.id, (float(x or 0), float(y or 0), w, h))  # both checked above


def _over_keyword(files: dict[str, bytes], pages: list[Page], keyword: str, w: float,
                  h: float) -> Stamp:
    if not isinstance(keyword, str) or len(keyword) > 200:
        raise OfdSignError("keyword must be text of at most 200 characters",
                           "关键字须为不超过 200 个字符的文本")
    for page in pages:
        found = find_text(parse_xml(files[page.path], page.path), keyword)
        if found is not None:
            cx, cy = found
            return Stamp(page.id, (cx - w / 2, cy - h / 2, w, h))
    raise OfdSignError(f"the keyword {keyword[:50]!r} is on no page", f"文档中找不到关键字“{keyword[:50]}”")


def find_text(content: Element, keyword: str) -> tuple[float, float] | None:
    """The centre (mm, page coordinates) of the first occurrence of `keyword` inside one
    TextCode of this page content, from the object's Boundary, CTM, TextCode X/Y and DeltaX."""
    for obj in content.iter(qname("TextObject")):
        try:
            bx, by = (float(v) for v in (obj.get("Boundary") or "").split()[:2])
            size = float(obj.get("Size") or "0")
            ctm = [float(v) for v in obj.get("CTM", "1 0 0 1 0 0").split()]
            if len(ctm) != 6:
                continue
        except ValueError:
            continue
        x = y = 0.0
        for code in obj.findall(qname("TextCode")):
            text = code.text or ""
            x = _float(code.get("X"), x)
            y = _float(code.get("Y"), y)
            at = text.find(keyword)
            advances = _deltas(code.get("DeltaX"), len(text), size)
            if at >= 0:
                start = x + sum(advances[:at])
                end = x + sum(advances[:at + len(keyword) - 1]) + size
                px, py = (start + end) / 2, y - 0.35 * size
                a, b, c, d, e, f = ctm
                return bx + a * px + c * py + e, by + b * px + d * py + f
            x += sum(advances)
    return None


def _float(text: str | None, default: float) -> float:
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


def _deltas(text: str | None, n: int, size: float) -> list[float]:
    """DeltaX as written ("2.5 2.5 3", or abbreviated "g 3 2.5"), one advance per character."""
    out: list[float] = []
    tokens = (text or "").split()
    i = 0
    try:
        while i < len(tokens) and len(out) < n:
            if tokens[i] == "g":
                out.extend([float(tokens[i + 2])] * min(int(tokens[i + 1]), n))
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
    except (ValueError, IndexError):
        pass
    return (out + [size] * n)[:n]


def _straddle(pages: list[Page], w: float, h: float) -> list[Stamp]:
    n = len(pages)
    if n < 2:
        raise OfdSignError("a straddle seal (骑缝章) needs at least two pages",
                           "骑缝章须盖在两页或以上的文档上")
    part = w / n
    return [Stamp(p.id, (p.width - (i + 1) * part, (p.height - h) / 2, w, h),
                  clip=(i * part, 0.0, part, h)) for i, p in enumerate(pages)]


def _with_signatures_entry(files: dict[str, bytes]) -> dict[str, bytes]:
    """An unsigned document may lack <Signatures> in OFD.xml: it is added next to DocRoot (no
    signature protects OFD.xml yet, so nothing breaks).  A signed one always has it."""
    ofd = files["OFD.xml"]
    body = parse_xml(ofd, "OFD.xml").find(qname("DocBody"))
    if body is None:
        raise OfdSignError("OFD.xml has no DocBody", "OFD.xml 中没有 DocBody")
    if child_text(body, "Signatures") is not None:
        return files
    root_loc = child_text(body, "DocRoot") or ""
    try:
        text = ofd.decode("utf-8")
    except UnicodeDecodeError:
        raise OfdSignError("OFD.xml is not UTF-8; it cannot be given a signature list",
                           "OFD.xml 不是 UTF-8 编码，无法加入签名列表") from None
    match = re.search(r"</(\w+:)?DocRoot>", text)
    if match is None:
        raise OfdSignError("OFD.xml: cannot find DocRoot", "OFD.xml 中找不到 DocRoot")
    prefix = match.group(1) or ""
    signs = directory_of(resolve("", root_loc)) + "Signs/Signatures.xml"
    text = text[:match.end()] + f"<{prefix}Signatures>{signs}</{prefix}Signatures>" + \
        text[match.end():]
    return {**files, "OFD.xml": text.encode("utf-8")}
