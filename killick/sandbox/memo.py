"""Memo rendering as Horizon shows it on transaction records."""

from __future__ import annotations

import base64

from stellar_sdk import HashMemo, IdMemo, Memo, ReturnHashMemo, TextMemo


def describe_memo(memo: Memo | None) -> tuple[str, str | None, str | None]:
    """(memo_type, memo, memo_bytes): text as text, id as decimal, hash/return as base64."""
    if isinstance(memo, TextMemo):
        raw = bytes(memo.memo_text)
        return "text", raw.decode("utf-8", errors="replace"), base64.b64encode(raw).decode()
    if isinstance(memo, IdMemo):
        return "id", str(memo.memo_id), None
    if isinstance(memo, HashMemo):
        return "hash", base64.b64encode(memo.memo_hash).decode(), None
    if isinstance(memo, ReturnHashMemo):
        return "return", base64.b64encode(memo.memo_return).decode(), None
    return "none", None, None
