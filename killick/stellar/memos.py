"""Memos compared canonically: the same memo can be written more than one way.

Horizon shows an id memo as a decimal string and a hash (or return) memo in base64;
Killick stores what it handed out in the same forms. Canonical forms make "007" and
"7", or two base64 spellings of one hash, compare equal, and refuse what cannot be a
memo of that type at all.
"""

from __future__ import annotations

import base64
import binascii


def canonical_memo(memo_type: str | None, memo: str | None) -> tuple[str, str] | None:
    """``(type, value)`` in canonical form, or None for no memo or an impossible one."""
    if not memo_type or memo_type == "none" or memo is None:
        return None
    if memo_type == "id":
        try:
            value = int(memo)
        except ValueError:
            return None
        return ("id", str(value)) if 0 <= value < 2**64 else None
    if memo_type in ("hash", "return"):
        try:
            raw = base64.b64decode(memo, validate=True)
        except (binascii.Error, ValueError):
            return None
        return (memo_type, base64.b64encode(raw).decode()) if len(raw) == 32 else None
    if memo_type == "text":
        return ("text", memo)
    return None
