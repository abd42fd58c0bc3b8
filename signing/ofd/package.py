"""Reading an OFD package someone brings to be stamped, without trusting it.

The producing side must not import the verifier (`verification.ofd.package` reads packages for
verification, with more checks), so this is the subset stamping needs: a ZIP that starts at
byte 0, a bounded number of entries and bytes (declared and actual), no encryption, only stored
or deflated entries, canonical relative names without duplicates (case-folded), and OFD.xml.
Anything else is an `OfdSignError` with a bilingual message, never a crash.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile

from signing.ofd.seal_signature import OfdSignError

MAX_ENTRIES = 10_000
MAX_ENTRY = 64 * 1024 * 1024
MAX_TOTAL = 128 * 1024 * 1024
MAX_RATIO = 200


def read_files(data: bytes) -> dict[str, bytes]:
    """The package's files by name, in ZIP order."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or not bytes(data[:4]) == b"PK\x03\x04":
        raise OfdSignError("not an OFD package (not a ZIP file)", "不是 OFD 文件（不是 ZIP 文件包）")
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
            infos = z.infolist()
            _check(infos)
            files = {i.filename: _read(z, i) for i in infos if not i.is_dir()}
    except OfdSignError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError, …
        raise OfdSignError(f"damaged OFD package ({exc.__class__.__name__})",
                           "OFD 文件包已损坏") from None
    if "OFD.xml" not in files:
        raise OfdSignError("not an OFD package: no OFD.xml", "不是 OFD 文件：缺少 OFD.xml")
    return files


def _check(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise OfdSignError(f"too many entries ({len(infos)})", f"文件包条目过多（{len(infos)} 个）")
    seen, total = set(), 0
    for info in infos:
        name = info.filename
        body = name[:-1] if info.is_dir() else name
        if (not body or len(name) > 1024 or body.startswith("/") or "\\" in name or ":" in name
                or any(unicodedata.category(c) == "Cc" for c in name)
                or any(seg in ("", ".", "..") for seg in body.split("/"))):
            raise OfdSignError(f"unsafe entry name {name[:100]!r}", f"条目名称不安全：{name[:100]!r}")
        folded = unicodedata.normalize("NFC", body).casefold()
        if folded in seen:
            raise OfdSignError(f"duplicate entry {name[:100]!r}", f"文件包中有重复的条目：{name[:100]}")
        seen.add(folded)
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            raise OfdSignError(f"entry {name[:100]!r} is encrypted or compressed unusually",
                               f"条目已加密或使用了不支持的压缩方法：{name[:100]}")
        if info.file_size > MAX_ENTRY or (info.file_size > 1024 * 1024 and
                                          info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise OfdSignError(f"entry {name[:100]!r} is too large", f"条目过大：{name[:100]}")
        total += info.file_size
        if total > MAX_TOTAL:
            raise OfdSignError("package larger than 128 MiB uncompressed", "文件包解压后过大")


def _read(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with z.open(info) as f:
        content = f.read(info.file_size + 1)
    if len(content) != info.file_size:
        raise OfdSignError(f"entry {info.filename[:100]!r} is not the size it declares",
                           f"条目实际大小与声明不符：{info.filename[:100]}")
    return content
