"""Calling a hook: await it if it is async, else run it in a worker thread."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from anyio import to_thread

INLINE_ATTRIBUTE = "__killick_inline__"


class HookAnswerError(Exception):
    """An integration hook answered in a shape Killick cannot use (the anchor's bug)."""


def inline(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a plain hook as pure computation (no I/O): called directly, without the thread
    hop that guards the event loop from anchors' blocking code. Killick's defaults are."""
    setattr(func, INLINE_ATTRIBUTE, True)
    return func


async def call_hook(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an anchor hook without ever blocking the event loop on its I/O."""
    if getattr(func, INLINE_ATTRIBUTE, False):
        return func(*args, **kwargs)
    if inspect.iscoroutinefunction(func):
        return await func(*args, **kwargs)
    result = await to_thread.run_sync(functools.partial(func, *args, **kwargs))
    if inspect.isawaitable(result):
        result = await result
    return result
