"""Log lines on stdout, each carrying the request id of the request it belongs to.

JSON in production (one object per line, for a log pipeline), readable text
in development; ``LOG_FORMAT`` chooses either way. Fields passed as
``extra={"fields": {...}}`` become JSON keys, or ``key=value`` pairs in text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from app.middleware.edge import current_request_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id:
            line["request_id"] = request_id
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            line.update(extra)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        parts = [stamp, f"{record.levelname:<7}", record.name, record.getMessage()]
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            parts.extend(f"{key}={value}" for key, value in extra.items() if value is not None)
        request_id = current_request_id.get()
        if request_id and not (isinstance(extra, dict) and "request_id" in extra):
            parts.append(f"request_id={request_id}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str, log_format: str = "json") -> None:
    """``log_format``: ``json`` or ``text`` (``Settings.log_style`` resolves ``auto``)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "gunicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
