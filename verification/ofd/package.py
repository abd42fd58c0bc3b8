"""Read an OFD package (a ZIP file, GB/T 33190 §7) without trusting it.

An OFD arrives from whoever wants it accepted, so the ZIP layer is read defensively before any
XML is looked at:
- the end-of-central-directory record is parsed first, by hand: no ZIP64, no multi-disk, no
  bytes before the first entry or after the record (a ZIP glued to another file is a polyglot,
  and the bytes around it are what a lenient reader might show instead), a bounded central
  directory — zipfile would otherwise build one object per entry however many there are;
- every name is a canonical relative path: no absolute paths, `..`, backslashes, drive letters,
  control characters or empty segments, and no two names equal once case-folded (which file a
  reader opens must not depend on its file system);
- no encryption, only stored or deflated entries, entries that do not overlap (overlapping
  entries are the "non-recursive zip bomb"), a cap on each entry, on the total and on the
  compression ratio, and every entry read back with its CRC checked.

All of it raises `OfdFormatError` (reported as FORMAT_FAILURE); nothing else escapes.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
from dataclasses import dataclass

from formats.errors import FormatError

MAX_ENTRIES = 10_000
MAX_CENTRAL_DIRECTORY = 2 * 1024 * 1024
MAX_ENTRY_SIZE = 64 * 1024 * 1024
MAX_TOTAL_SIZE = 128 * 1024 * 1024
MAX_RATIO = 200                    # uncompressed / compressed, for entries over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024          # small entries may compress as well as they like
MAX_NAME = 1024

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_EOCD_SIG = b"PK\x05\x06"
_LOCAL_HEADER = 30                 # fixed part of a local file header


class OfdFormatError(FormatError):
    """The bytes are not an OFD package we are willing to read."""

    code = "ofd-format"


@dataclass(frozen=True)
class OfdPackage:
    """The files of a package by canonical name ("Doc_0/Signs/Signature.xml"), in ZIP order."""

    files: dict[str, bytes]

    def get(self, path: str) -> bytes | None:
        return self.files.get(path)


def read_package(data: bytes) -> OfdPackage:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OfdFormatError("input must be bytes", "输入必须是字节串")
    data = bytes(data)
    if not data.startswith(b"PK\x03\x04"):
        raise OfdFormatError("not a ZIP file", "不是 ZIP 文件")
    _check_end_record(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            _check_entries(infos, data)
            files = {info.filename: _read(z, info) for info in infos if not info.is_dir()}
    except OfdFormatError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, struct.error, …
        raise OfdFormatError(f"damaged ZIP file ({exc.__class__.__name__}: {str(exc)[:200]})",
                             "ZIP 文件已损坏") from None
    if sum(len(v) for v in files.values()) > MAX_TOTAL_SIZE:  # declared sizes could lie
        raise _too_big()
    return OfdPackage(files)


def _check_end_record(data: bytes) -> None:
    at = data.rfind(_EOCD_SIG, max(0, len(data) - _EOCD.size - 0xFFFF))
    if at < 0 or at + _EOCD.size > len(data):
        raise OfdFormatError("ZIP end record missing (truncated file?)",
                             "缺少 ZIP 结束记录（文件不完整？）")
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = _EOCD.unpack_from(data, at)
    if 0xFFFF in (n_disk, n_total) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise OfdFormatError("ZIP64 packages are not accepted", "不接受 ZIP64 格式的文件包")
    if disk or cd_disk or n_disk != n_total:
        raise OfdFormatError("multi-volume ZIP", "不接受分卷 ZIP")
    if n_total > MAX_ENTRIES or cd_size > MAX_CENTRAL_DIRECTORY:
        raise OfdFormatError(f"too many entries ({n_total}; at most {MAX_ENTRIES})",
                             f"文件包条目过多（{n_total} 个，上限 {MAX_ENTRIES}）")
    if at + _EOCD.size + comment != len(data):
        raise OfdFormatError("bytes after the end of the ZIP file", "ZIP 文件末尾之后还有数据")
    if cd_offset + cd_size != at:
        raise OfdFormatError("bytes before or inside the ZIP structure (a file glued to another?)",
                             "ZIP 结构之前或之间夹有其他数据")


def _check_entries(infos: list[zipfile.ZipInfo], data: bytes) -> None:
    if len(infos) > MAX_ENTRIES:
        raise OfdFormatError(f"too many entries ({len(infos)})", f"文件包条目过多（{len(infos)} 个）")
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name, info.is_dir())
        folded = unicodedata.normalize("NFC", name).casefold().rstrip("/")
        if folded in seen:
            raise OfdFormatError(f"duplicate entry {name!r} (also {seen[folded]!r})",
                                 f"文件包中有重复的条目：{name}")
        seen[folded] = name
        if info.flag_bits & 0x1:
            raise OfdFormatError(f"encrypted entry {name!r}", f"条目已加密：{name}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise OfdFormatError(f"entry {name!r} uses compression method {info.compress_type}",
                                 f"条目使用了不支持的压缩方法：{name}")
        if info.is_dir() and info.file_size:
            raise OfdFormatError(f"directory entry {name!r} has content", f"目录条目带有内容：{name}")
        if info.file_size > MAX_ENTRY_SIZE:
            raise OfdFormatError(f"entry {name!r} is {info.file_size} bytes uncompressed",
                                 f"条目过大：{name}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise OfdFormatError(f"entry {name!r} expands {info.file_size // max(info.compress_size, 1)}"
                                 f"-fold (a ZIP bomb?)", f"条目压缩比异常（疑似 ZIP 炸弹）：{name}")
        total += info.file_size
        if total > MAX_TOTAL_SIZE:
            raise _too_big()
    _check_no_overlap(infos, data)


def _check_name(name: str, is_dir: bool) -> None:
    body = name[:-1] if is_dir else name
    bad = (not body or len(name) > MAX_NAME or body.startswith("/") or "\\" in name
           or ":" in name or any(unicodedata.category(c) == "Cc" for c in name)
           or any(seg in ("", ".", "..") for seg in body.split("/")))
    if bad:
        raise OfdFormatError(f"unsafe entry name {name[:100]!r}", f"条目名称不安全：{name[:100]!r}")


def _check_no_overlap(infos: list[zipfile.ZipInfo], data: bytes) -> None:
    """Each entry's local header and data must end before the next entry begins, and the last
    before the central directory: overlapping entries let a small file expand many times."""
    cd_start = _EOCD.unpack_from(data, data.rfind(_EOCD_SIG))[6]
    ordered = sorted(infos, key=lambda i: i.header_offset)
    if ordered and ordered[0].header_offset != 0:
        raise OfdFormatError("bytes before the first ZIP entry", "第一个 ZIP 条目之前有数据")
    for here, following in zip(ordered, ordered[1:] + [None]):
        name_len, extra_len = struct.unpack_from("<2H", data, here.header_offset + 26)
        end = here.header_offset + _LOCAL_HEADER + name_len + extra_len + here.compress_size
        limit = following.header_offset if following is not None else cd_start
        if end > limit:
            raise OfdFormatError(f"ZIP entries overlap at {here.filename!r}",
                                 f"ZIP 条目相互重叠：{here.filename}")


def _read(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with z.open(info) as f:
        content = f.read(info.file_size + 1)  # zipfile checks the CRC at the end
    if len(content) != info.file_size:
        raise OfdFormatError(f"entry {info.filename!r} is not the size it declares",
                             f"条目实际大小与声明不符：{info.filename}")
    return content


def _too_big() -> OfdFormatError:
    return OfdFormatError(f"package larger than {MAX_TOTAL_SIZE // (1024 * 1024)} MiB "
                          "uncompressed", "文件包解压后过大")


def resolve(base_dir: str, loc: str | None) -> str:
    """The package name an ST_Loc points to.  `base_dir` is the directory of the file holding
    the reference ("" for the root, "Doc_0/Signs/"); absolute locations start at the root.
    `..` may move up but never above the root."""
    if loc is None or not loc.strip():
        raise OfdFormatError("empty file location", "文件路径为空")
    loc = loc.strip()
    if "\\" in loc or ":" in loc or any(unicodedata.category(c) == "Cc" for c in loc):
        raise OfdFormatError(f"unsafe file location {loc[:100]!r}", f"文件路径不安全：{loc[:100]!r}")
    full = loc[1:] if loc.startswith("/") else base_dir + loc
    parts: list[str] = []
    for seg in full.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if not parts:
                raise OfdFormatError(f"file location {loc[:100]!r} leaves the package",
                                     f"文件路径越出文件包：{loc[:100]!r}")
            parts.pop()
        else:
            parts.append(seg)
    if not parts:
        raise OfdFormatError(f"file location {loc[:100]!r} names no file", f"文件路径无效：{loc[:100]!r}")
    return "/".join(parts)


def directory_of(path: str) -> str:
    """"Doc_0/Signs/Signatures.xml" → "Doc_0/Signs/"; a root file → ""."""
    return path.rpartition("/")[0] + "/" if "/" in path else ""
