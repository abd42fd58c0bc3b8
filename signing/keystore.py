"""The key store: every certificate, private key and CRL a node uses, indexed by a manifest.

A key directory holds `manifest.json` (see signing.devpki for the format) and the PEM files it
names.  Certificates and CRLs are parsed when the store loads; private keys are decrypted on
first use and then kept, so a request never re-reads or re-validates a key (pyHanko's
SimpleSigner does, and it costs 8x).  In production the store refuses a manifest marked
`development_only` and any private key that is not encrypted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509

from formats import algorithms as alg
from formats.errors import SigningError
from formats.certs import load_certificate, load_crl

ROLES = ("root", "issuing_ca", "licence_signer", "seal_maker", "trust_list", "node", "tsa",
         "status_signer", "audit_log", "witness", "federation_root", "revoked_demo", "expired_demo")


class KeyStoreError(SigningError):
    code = "keystore"


@dataclass(frozen=True)
class Organisation:
    """An issuing organisation (发证机构): who it is and what it may issue."""

    region: str
    kind: str
    name: str
    code: str  # USCC
    licence_types: tuple[str, ...]
    seal: dict = field(default_factory=dict, hash=False, compare=False)
    # Offices it issues for, by GB/T 2260 area code (district marriage registries): a template
    # may seal with the office's seal (license_svc.licences.seals, docs/seals.md).
    offices: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Credential:
    """A private key with its certificate and issuer chain (issuing CA … root, root last;
    empty for a self-signed root)."""

    id: str
    key: Any  # formats.algorithms PrivateKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    role: str
    region: str
    org_name: str
    org_code: str
    algorithm: str

    @property
    def public_key(self):
        return self.key.public_key

    @property
    def root(self) -> x509.Certificate:
        return self.chain[-1] if self.chain else self.cert


class KeyStore:
    def __init__(self, directory: Path, manifest: dict, passphrase: bytes | None,
                 production: bool, sm2_backend: str | None = None):
        self.directory = directory
        self._sm2_backend = sm2_backend or None
        self.manifest = manifest
        self._passphrase = passphrase
        self._production = production
        self._items: dict[str, dict] = {i["id"]: i for i in manifest.get("items", [])}
        self._certs: dict[str, x509.Certificate] = {}
        self._crls: dict[str, asn1_crl.CertificateList] = {}
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()
        for item_id, item in self._items.items():
            self._certs[item_id] = load_certificate(self._read(item["cert"]))
            if item.get("crl"):
                self._crls[item_id] = load_crl(self._read(item["crl"]))
        self._orgs = [Organisation(o["region"], o["kind"], o["name"], o["code"],
                                   tuple(o.get("licence_types", ())), o.get("seal", {}),
                                   o.get("offices", {}))
                      for o in manifest.get("organisations", [])]

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path | str, passphrase: bytes | str | None = None, *,
             production: bool = False, sm2_backend: str | None = None) -> "KeyStore":
        """Read `directory/manifest.json` and every certificate and CRL it lists.

        `sm2_backend` (the `sm2_backend` setting) picks the engine the SM2 private keys sign
        with; empty means the algorithm layer's default."""
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyStoreError(f"no manifest.json in {directory}",
                                f"密钥目录 {directory} 中没有 manifest.json") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeyStoreError(f"manifest.json is not valid JSON: {exc}",
                                "manifest.json 不是合法的 JSON") from None
        if production and manifest.get("development_only"):
            raise KeyStoreError(
                "refusing DEVELOPMENT-ONLY keys in production (manifest marked development_only)",
                "生产环境拒绝加载仅供开发测试的密钥")
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        return cls(directory, manifest, passphrase, production, sm2_backend)

    def _read(self, rel: str) -> bytes:
        path = (self.directory / rel).resolve()
        if self.directory.resolve() not in path.parents:
            raise KeyStoreError(f"manifest path escapes the key directory: {rel}",
                                f"manifest 中的路径越出密钥目录：{rel}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise KeyStoreError(f"cannot read {rel}: {exc.strerror}", f"无法读取 {rel}") from None

    def _key(self, item: dict):
        with self._lock:
            key = self._keys.get(item["id"])
            if key is None:
                if not item.get("key"):
                    raise KeyStoreError(f"no private key for {item['id']}",
                                        f"{item['id']} 没有私钥")
                data = self._read(item["key"])
                encrypted = alg.is_encrypted_private_key(data)  # parsed, not searched for words
                if self._production and not encrypted:
                    raise KeyStoreError(f"unencrypted private key {item['key']} in production",
                                        f"生产环境不得使用未加密的私钥 {item['key']}")
                key = alg.load_private_key(data, self._passphrase if encrypted else None,
                                           sm2_backend=self._sm2_backend)
                if key.public_key.spki_der() != self._certs[item["id"]].public_key.dump():
                    raise KeyStoreError(f"private key does not match the certificate of {item['id']}",
                                        f"{item['id']} 的私钥与证书不匹配")
                self._keys[item["id"]] = key
            return key

    # -- queries -------------------------------------------------------------------------
    def items(self, region: str | None = None, role: str | None = None,
              algorithm: str | None = None) -> list[dict]:
        """Manifest records, filtered."""
        return [i for i in self._items.values()
                if (region is None or i["region"] == region)
                and (role is None or i["role"] == role)
                and (algorithm is None or i["algorithm"] == algorithm)]

    def item(self, item_id: str) -> dict:
        """One manifest record by id (e.g. "sh-issuing-ca-sm2")."""
        if item_id not in self._items:
            raise KeyStoreError(f"unknown credential {item_id!r}", f"未知的证书 {item_id!r}")
        return self._items[item_id]

    def certificate(self, item_id: str) -> x509.Certificate:
        return self._certs[item_id]

    def chain(self, item_id: str) -> tuple[x509.Certificate, ...]:
        out, item = [], self._items[item_id]
        while item.get("issuer") and item["issuer"] != item["id"]:
            item = self._items[item["issuer"]]
            out.append(self._certs[item["id"]])
        return tuple(out)

    def credential(self, region: str, role: str, algorithm: str = "sm2",
                   org_code: str | None = None) -> Credential:
        """The credential for a role.  Without `org_code`, a licence signer is the region's
        first organisation (its 市场监督管理局)."""
        found = [i for i in self.items(region, role, algorithm)
                 if org_code is None or i["org_code"] == org_code]
        if not found:
            raise KeyStoreError(
                f"no {algorithm} {role} credential for region {region!r}"
                + (f" and organisation {org_code}" if org_code else ""),
                f"区域 {region} 没有角色 {role}（{algorithm}）的证书"
                + (f"（机构 {org_code}）" if org_code else ""))
        return self._credential(found[0])

    def credential_by_id(self, item_id: str) -> Credential:
        return self._credential(self.item(item_id))

    def _credential(self, item: dict) -> Credential:
        return Credential(item["id"], self._key(item), self._certs[item["id"]],
                          self.chain(item["id"]), item["role"], item["region"], item["org_name"],
                          item["org_code"], item["algorithm"])

    def federation_root(self) -> Credential:
        return self.credential("federation", "federation_root", "sm2")

    def roots(self, region: str | None = None, algorithm: str | None = None) -> list[x509.Certificate]:
        """Region root CAs (not the federation root)."""
        return [self._certs[i["id"]] for i in self.items(region, "root", algorithm)]

    def intermediates(self, region: str | None = None,
                      algorithm: str | None = None) -> list[x509.Certificate]:
        return [self._certs[i["id"]] for i in self.items(region, "issuing_ca", algorithm)]

    def crls(self, region: str | None = None) -> list[asn1_crl.CertificateList]:
        """The CRLs of the region's CAs (roots and issuing CAs)."""
        return [self._crls[i["id"]] for i in self.items(region) if i["id"] in self._crls]

    def organisations(self, region: str | None = None) -> list[Organisation]:
        return [o for o in self._orgs if region is None or o.region == region]

    def organisation(self, org_code: str) -> Organisation:
        for o in self._orgs:
            if o.code == org_code:
                return o
        raise KeyStoreError(f"unknown organisation {org_code}", f"未知的机构 {org_code}")

    @property
    def regions(self) -> dict[str, dict]:
        return dict(self.manifest.get("regions", {}))

    @property
    def development_only(self) -> bool:
        return bool(self.manifest.get("development_only"))
