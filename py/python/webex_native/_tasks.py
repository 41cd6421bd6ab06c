"""Handlers on an asyncio loop: a coroutine handler becomes a task, kept until it is done, and
whatever a handler raises is logged, never lost and never raised into the engine's delivery."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Callable, Optional, Set

log = logging.getLogger("webex_native")


class LoopTasks:
    """Runs handlers for one client on its loop (``loop`` may be set once it is known)."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self.loop = loop
        self.tasks: Set["asyncio.Future[Any]"] = set()

    def run(self, handler: Callable[[Any], Any], arg: Any, what: str) -> None:
        """``handler(arg)``; ``what`` names the handler in the log if it raises."""
        try:
            result = handler(arg)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result, loop=self.loop)
                self.tasks.add(task)
                task.add_done_callback(self._done)
        except Exception:
            log.exception("%s raised", what)

    def _done(self, task: "asyncio.Future[Any]") -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a handler raised", exc_info=task.exception())
