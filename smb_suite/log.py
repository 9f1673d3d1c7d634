"""Logging: one line per event, key=value fields. Never pass passwords or AUTH data to these helpers."""

from __future__ import annotations

import logging
import sys


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiosmtpd logs every command and reply at INFO (about a dozen lines a message, AUTH lines included);
    # our smtp.* events carry what an operator needs, so its chatter is kept to warnings.
    logging.getLogger("mail.log").setLevel(max(level, logging.WARNING))


def fields(**values: object) -> str:
    """Format key=value pairs, quoting values with spaces."""
    parts = []
    for key, value in values.items():
        text = str(value)
        if not text or any(ch in text for ch in ' "='):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    return " ".join(parts)


def event(logger: logging.Logger, name: str, **values: object) -> None:
    logger.info("%s %s", name, fields(**values))
