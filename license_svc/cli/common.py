"""What every command shares: the usage exit code, bilingual fatal errors, files, times."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer

USAGE = 3  # docs/api.md: unreadable input or usage


def die(message_zh: str, message_en: str, code: int = USAGE):
    typer.echo(f"错误：{message_zh} / error: {message_en}", err=True)
    raise typer.Exit(code)


def read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        die(f"无法读取文件 {path}", f"cannot read {path}: {exc.strerror}")


def parse_time(text: str | None, default: datetime | None = None) -> datetime:
    """ISO 8601 (a trailing Z allowed); no zone means UTC; empty means `default` or now."""
    if not text:
        return default or datetime.now(timezone.utc)
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        die(f"时间格式错误：{text}", f"not an ISO 8601 time: {text}")
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
