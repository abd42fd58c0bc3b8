"""Structured JSON logs, one object per line, with the request id — and never an ID number.

Redaction (`formats.privacy`, the service's one ID-number filter) is the last step of formatting, applied to the whole serialised line (message,
extra fields, traceback), so a 身份证号 that slips into an exception message is still masked.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from formats.privacy import mask_id_numbers
from license_svc.request_context import current_request_id

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName", "color_message"}  # color_message: uvicorn's ANSI copy of msg


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or current_request_id()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_id_numbers(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str | int = "INFO", stream=None) -> None:
    """Route the root logger (and uvicorn's) to one JSON handler; idempotent."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python warnings (a dependency's DeprecationWarning, say) become JSON records of the
    # `py.warnings` logger instead of raw text lines that break a log shipper's parsing.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # uvicorn's access log prints raw paths and query strings; ours logs route templates instead.
    logging.getLogger("uvicorn.access").disabled = True
    # pyHanko logs a traceback at WARNING for every failed path build or hostile PDF; the
    # verification report already says what failed, so those would only flood the log.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.ERROR)
