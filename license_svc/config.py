"""Settings from the environment (and an optional TOML file), read once at the edges.

Every command and the service take a `Settings`; nothing deep inside reads os.environ, so a
test can build its own without touching the process environment.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

REGIONS = {"sh": "上海", "js": "江苏", "zj": "浙江", "ah": "安徽"}
ENVIRONMENTS = ("development", "production")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_KEYS_DIR = REPO_ROOT / "keys_dev"


class ConfigError(Exception):
    def __init__(self, message_en: str, message_zh: str):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_en, self.message_zh = message_en, message_zh


@dataclass(frozen=True)
class Settings:
    region: str = "sh"
    env: str = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    keys_dir: Path = DEV_KEYS_DIR
    key_passphrase: str | None = None
    sm2_backend: str = ""
    # Licence-type folders searched after the built-in ones (license_svc.templates).
    templates_dirs: tuple[Path, ...] = ()
    peers: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 5 * 1024 * 1024
    # Background trust-list sync (license_svc.federation.autosync); 0 = only when asked.
    sync_interval_minutes: float = 10.0
    # Disputes (license_svc.disputes): working days (Mon–Fri) the issuing organisation has to
    # answer; 0 makes a dispute due at once (demonstrations, end-to-end tests of the overdue list).
    dispute_due_working_days: int = 5
    # Sign-in on the pages through the province's identity provider (OpenID Connect:
    # license_svc/auth/oidc.py, docs/operations.md "Sign-in").  No issuer: no OIDC sign-in.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_redirect_url: str = ""          # this node's /auth/callback as the provider knows it
    oidc_scopes: str = "openid profile"
    # Which ID-token claim holds what the service maps (keys: OIDC_CLAIM_KEYS) ...
    oidc_claims: dict[str, str] = field(default_factory=dict)
    # ... and which of the provider's role names is which service role (unlisted: the same name).
    oidc_roles: dict[str, str] = field(default_factory=dict)
    # A page session ends at the ID token's expiry or after this many minutes, whichever is first.
    session_max_minutes: float = 480.0
    # Signing in on the pages by pasting an API key (the demo); None: on in development only.
    demo_sign_in: bool | None = None

    def __post_init__(self):
        if self.region not in REGIONS:
            raise ConfigError(f"unknown region {self.region!r}; one of {sorted(REGIONS)}",
                              f"未知的区域 {self.region!r}，应为 {sorted(REGIONS)} 之一")
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"LICENSE_SVC_ENV must be one of {ENVIRONMENTS}",
                              f"LICENSE_SVC_ENV 必须是 {ENVIRONMENTS} 之一")
        if not isinstance(self.sync_interval_minutes, (int, float)) or self.sync_interval_minutes < 0:
            raise ConfigError("LICENSE_SVC_SYNC_INTERVAL_MINUTES must be a number >= 0 (0 disables)",
                              "LICENSE_SVC_SYNC_INTERVAL_MINUTES 必须是不小于 0 的数（0 表示不自动同步）")
        if isinstance(self.dispute_due_working_days, bool) or not isinstance(
                self.dispute_due_working_days, int) or not 0 <= self.dispute_due_working_days <= 60:
            raise ConfigError("LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS must be a whole number 0..60",
                              "LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS 必须是 0 到 60 之间的整数")
        if self.sm2_backend not in ("", "tongsuopy", "gmssl"):
            raise ConfigError(f"LICENSE_SVC_SM2_BACKEND must be tongsuopy or gmssl, not {self.sm2_backend!r}",
                              f"LICENSE_SVC_SM2_BACKEND 只能是 tongsuopy 或 gmssl，不是 {self.sm2_backend!r}")
        self._check_sign_in()
        if not self.database_url:
            object.__setattr__(self, "database_url",
                               f"sqlite:///{Path(self.data_dir) / f'license-svc-{self.region}.db'}")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def demo_sign_in_enabled(self) -> bool:
        return (not self.production) if self.demo_sign_in is None else self.demo_sign_in

    def oidc_claim(self, key: str) -> str:
        """The ID-token claim that holds `key` (one of OIDC_CLAIM_KEYS)."""
        return self.oidc_claims.get(key, OIDC_CLAIM_KEYS[key])

    def _check_sign_in(self) -> None:
        if self.production and self.demo_sign_in:
            raise ConfigError("the demo sign-in (pasting an API key on the pages) is not allowed in production",
                              "生产环境不得启用演示登录（在页面上粘贴 API 密钥）")
        unknown = sorted(set(self.oidc_claims) - set(OIDC_CLAIM_KEYS))
        if unknown:
            raise ConfigError(f"LICENSE_SVC_OIDC_CLAIMS: unknown keys {unknown}; known: {sorted(OIDC_CLAIM_KEYS)}",
                              f"LICENSE_SVC_OIDC_CLAIMS 含未知的键 {unknown}，可用：{sorted(OIDC_CLAIM_KEYS)}")
        if not isinstance(self.session_max_minutes, (int, float)) or self.session_max_minutes <= 0:
            raise ConfigError("LICENSE_SVC_SESSION_MAX_MINUTES must be a number > 0",
                              "LICENSE_SVC_SESSION_MAX_MINUTES 必须是大于 0 的数")
        if not self.oidc_issuer:
            return
        if not (self.oidc_client_id and self.oidc_redirect_url):
            raise ConfigError("LICENSE_SVC_OIDC_ISSUER needs LICENSE_SVC_OIDC_CLIENT_ID and LICENSE_SVC_OIDC_REDIRECT_URL",
                              "设置了 LICENSE_SVC_OIDC_ISSUER 还须设置 LICENSE_SVC_OIDC_CLIENT_ID 和 LICENSE_SVC_OIDC_REDIRECT_URL")
        if self.production and not (self.oidc_issuer.startswith("https://")
                                    and self.oidc_redirect_url.startswith("https://")):
            raise ConfigError("in production the OIDC issuer and redirect URL must be https",
                              "生产环境中 OIDC 签发方地址和回调地址必须使用 https")

    def with_region(self, region: str) -> "Settings":
        data = {"region": region}
        if self.database_url.startswith("sqlite:///") and f"license-svc-{self.region}.db" in self.database_url:
            data["database_url"] = ""
        return replace(self, **data)

    def check_keys_allowed(self) -> None:
        """Production must never run on the committed development PKI."""
        if self.production and Path(self.keys_dir).resolve() == DEV_KEYS_DIR.resolve():
            raise ConfigError(
                "refusing to start: LICENSE_SVC_ENV=production with the DEVELOPMENT-ONLY keys in keys_dev/",
                "拒绝启动：生产环境不得使用 keys_dev/ 中的开发测试密钥")


# What the sign-in maps from an ID token, and the claim names used unless LICENSE_SVC_OIDC_CLAIMS
# says otherwise: a citizen's ID number (holder code), a clerk's organisation code and roles, and
# the person's name (the `operator` of what a clerk does).
OIDC_CLAIM_KEYS = {"id_number": "id_number", "org_code": "org_code", "roles": "roles", "name": "name"}


def parse_pairs(text: str, setting: str) -> dict[str, str]:
    """`a=b,c=d` (LICENSE_SVC_OIDC_CLAIMS, LICENSE_SVC_OIDC_ROLES); in TOML, a table."""
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    pairs = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        key, _, value = part.partition("=")
        if not value.strip():
            raise ConfigError(f"bad {setting} entry {part!r} (want name=value)",
                              f"{setting} 条目格式错误：{part!r}（应为 名称=值）")
        pairs[key.strip()] = value.strip()
    return pairs


def _parse_bool(value) -> bool | None:
    if value is None or value == "" or isinstance(value, bool):
        return value if isinstance(value, bool) else None
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"LICENSE_SVC_DEMO_SIGN_IN must be true or false, not {value!r}",
                      f"LICENSE_SVC_DEMO_SIGN_IN 只能是 true 或 false，不是 {value!r}")


def parse_peers(text: str) -> dict[str, str]:
    peers = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        region, _, url = part.partition("=")
        if not url:
            raise ConfigError(f"bad LICENSE_SVC_PEERS entry {part!r} (want region=url)",
                              f"LICENSE_SVC_PEERS 条目格式错误：{part!r}")
        peers[region.strip()] = url.strip().rstrip("/")
    return peers


def _parse_minutes(value, setting: str = "LICENSE_SVC_SYNC_INTERVAL_MINUTES") -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{setting} is not a number: {value!r}",
                          f"{setting} 不是数字：{value!r}") from None


def _parse_days(value) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError("LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS must be a whole number",
                          "LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS 必须是整数") from None


def _parse_dirs(value) -> tuple[Path, ...]:
    """LICENSE_SVC_TEMPLATES_DIR is `os.pathsep`-separated; in TOML, a list of paths (or one)."""
    if isinstance(value, str):
        value = value.split(os.pathsep)
    return tuple(Path(v) for v in value if str(v).strip())


def load_settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Environment first, then LICENSE_SVC_CONFIG (a TOML file) for anything unset."""
    env = dict(os.environ if environ is None else environ)
    file_values: dict = {}
    if env.get("LICENSE_SVC_CONFIG"):
        with open(env["LICENSE_SVC_CONFIG"], "rb") as fh:
            file_values = tomllib.load(fh)

    def pick(name: str, default=None):
        return env.get(f"LICENSE_SVC_{name.upper()}") or file_values.get(name) or default

    values = dict(
        region=pick("region", "sh"),
        env=pick("env", "development"),
        data_dir=Path(pick("data_dir", "var")),
        database_url=pick("database_url", ""),
        keys_dir=Path(pick("keys_dir", str(DEV_KEYS_DIR))),
        key_passphrase=pick("key_passphrase"),
        sm2_backend=pick("sm2_backend", ""),
        templates_dirs=_parse_dirs(env.get("LICENSE_SVC_TEMPLATES_DIR")
                                   or file_values.get("templates_dirs", ())),
        peers=parse_peers(pick("peers", "") or ""),
        # Not `pick`: a TOML 0 (disable) is falsy and must not fall back to the default.
        sync_interval_minutes=_parse_minutes(env.get("LICENSE_SVC_SYNC_INTERVAL_MINUTES")
                                             or file_values.get("sync_interval_minutes", 10)),
        dispute_due_working_days=_parse_days(env.get("LICENSE_SVC_DISPUTE_DUE_WORKING_DAYS")
                                             or file_values.get("dispute_due_working_days", 5)),
        oidc_issuer=(pick("oidc_issuer", "") or "").rstrip("/"),
        oidc_client_id=pick("oidc_client_id", ""),
        oidc_client_secret=pick("oidc_client_secret", ""),
        oidc_redirect_url=pick("oidc_redirect_url", ""),
        oidc_scopes=pick("oidc_scopes", "openid profile"),
        oidc_claims=parse_pairs(pick("oidc_claims", "") or "", "LICENSE_SVC_OIDC_CLAIMS"),
        oidc_roles=parse_pairs(pick("oidc_roles", "") or "", "LICENSE_SVC_OIDC_ROLES"),
        session_max_minutes=_parse_minutes(pick("session_max_minutes", 480), "LICENSE_SVC_SESSION_MAX_MINUTES"),
        demo_sign_in=_parse_bool(env.get("LICENSE_SVC_DEMO_SIGN_IN", file_values.get("demo_sign_in"))),
    )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
