"""Logging for ``killick serve``, ``killick worker`` and ``killick dev``, set up in one place.

One line per event: plain text, or JSON objects when ``LOG_FORMAT=json`` (with the
transaction id as a field when the line names one). Every line passes a redaction step
that masks Stellar secret seeds, JWTs and ``Authorization`` values: Killick never logs
them on purpose, and this is the safety net for a third-party message or a traceback
that would. uvicorn's access lines keep the path and drop the query string (a SEP-6
``GET /deposit`` may carry KYC fields in it).
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"
# A Stellar secret seed (S + 55 base32 characters) and a JWT (header.payload.signature).
_SEED = re.compile(r"\bS[A-Z2-7]{55}\b")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}")
_AUTHORIZATION = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|token)\s+)?[^\s'\",;}]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TRANSACTION_ID = re.compile(
    r"\b(?:transaction|deposit|withdrawal)(?:_status)?\s+"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
)
# Attributes every LogRecord has (and uvicorn's ANSI-coloured copy of the message);
# anything else on a record came from ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(text: str) -> str:
    """``text`` with seeds, JWTs and Authorization values replaced by ``[redacted]``."""
    text = _SEED.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


class RedactFilter(logging.Filter):
    """Masks secrets in a record's message before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class AccessPathOnly(logging.Filter):
    """uvicorn access lines: log ``/path``, never ``?query`` (KYC fields may be in it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


class KillickFormatter(logging.Formatter):
    """Text (``time level logger: message``) or one JSON object per line; redacted."""

    def __init__(self, json_lines: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        if not self.json_lines:
            return redact(super().format(record))
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "process": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if "transaction_id" not in entry:
            found = _TRANSACTION_ID.search(message)
            if found:
                entry["transaction_id"] = found.group(1)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def logging_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` dict: also uvicorn's ``log_config``, so each
    server worker process it starts configures itself the same way."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": "killick.logging_setup.RedactFilter"},
            "access_path_only": {"()": "killick.logging_setup.AccessPathOnly"},
        },
        "formatters": {
            "killick": {
                "()": "killick.logging_setup.KillickFormatter",
                "json_lines": log_format == "json",
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "killick",
                "filters": ["redact"],
            }
        },
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {
                "level": level,
                "handlers": [],
                "propagate": True,
                "filters": ["access_path_only"],
            },
            # A request line per Horizon call and callback is noise, and URLs may carry
            # what a wallet put in them: only their warnings.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }


def configure_logging(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """Configure this process's logging; returns the dict (for uvicorn's ``log_config``)."""
    config = logging_config(log_format, level)
    logging.config.dictConfig(config)
    return config
