"""`--verbose`, `--quiet` and `--log-format`: where the library's and Alembic's log records go.

Records go to stderr, so stdout stays the command's result (and `--json` stays parseable). Alembic
logs through `logging` (`alembic.runtime.migration`: each revision run, and the warnings revisions
give, such as the search-operator warning of a migration run without superuser rights).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from enum import StrEnum
from typing import TextIO


class LogFormat(StrEnum):
    plain = "plain"
    json = "json"


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record arrives (a test runner swaps it per run)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_installed: list[logging.Handler] = []


def configure(*, verbose: bool, quiet: bool, fmt: LogFormat) -> None:
    """Send log records to stderr in `fmt`: warnings and errors by default, info too with
    `verbose`, errors only with `quiet`. Called once per invocation (it replaces its own handler)."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
    _installed.clear()
    handler = _Stderr()
    handler.setFormatter(JsonLines() if fmt is LogFormat.json else logging.Formatter(_PLAIN))
    root.addHandler(handler)
    _installed.append(handler)
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    root.setLevel(level)
    # Alembic sets its own loggers to INFO in alembic.ini setups; here the flag decides.
    logging.getLogger("alembic").setLevel(level)
