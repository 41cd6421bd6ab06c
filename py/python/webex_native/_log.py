"""Engine logs into the ``webex_native`` logger. The engine redacts every record (tokens,
secrets, Bearer values, JWTs) before it leaves Rust and hands them over in batches from its
log thread, so the GIL is taken once per batch, not once per line."""

from __future__ import annotations

import logging
from typing import List, Tuple

from . import _native

__all__ = ["TRACE", "logger"]

#: Below DEBUG, for the engine's `trace` records.
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

logger = logging.getLogger("webex_native")

_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG, "trace": TRACE}


def _handle_batch(records: List[Tuple[str, str, str, int]]) -> None:
    for level_name, target, message, timestamp_ms in records:
        level = _LEVELS.get(level_name, logging.INFO)
        if not logger.isEnabledFor(level):
            continue
        record = logger.makeRecord(logger.name, level, target, 0, message, None, None, extra={"target": target})
        record.created = timestamp_ms / 1000.0
        record.msecs = timestamp_ms % 1000
        logger.handle(record)


_native.set_log_handler(_handle_batch)
