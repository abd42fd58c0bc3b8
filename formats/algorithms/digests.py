"""SM3 and SHA-256, through pyca/cryptography (which has SM3 but no SM2)."""

from cryptography.hazmat.primitives import hashes

_HASHES = {"sm3": hashes.SM3, "sha256": hashes.SHA256}


def digest(name: str, data: bytes) -> bytes:
    try:
        h = hashes.Hash(_HASHES[name]())
    except KeyError:
        from formats.errors import UnsupportedAlgorithm

        raise UnsupportedAlgorithm(f"unsupported digest {name!r}", f"不支持的摘要算法 {name!r}") from None
    h.update(data)
    return h.finalize()


def sm3(data: bytes) -> bytes:
    return digest("sm3", data)


def sha256(data: bytes) -> bytes:
    return digest("sha256", data)
