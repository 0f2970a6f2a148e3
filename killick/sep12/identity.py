"""Which customer a request addresses: the SEP-10 token decides (CHECKLIST S12-04/05).

The token's ``sub`` names a principal: a plain account ``G...``, an account with a memo
``G...:memo``, or a muxed account ``M...``. The deprecated ``account`` parameter must
agree with it. ``memo`` must equal the token's memo or muxed id when the token has one
(else 400); with a plain-account token, ``memo`` labels one of that account's own users
(SEP-12 "Shared Accounts"), whose principal is then ``G...:memo``, the same key a token
for ``G...:memo`` carries. ``M...`` and ``G...:id`` stay distinct principals, as the
tokens say (SEP-6 keys its transactions the same way).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from stellar_sdk import MuxedAccount

from killick.errors import APIError
from killick.sep10.token import SEP10Token

MEMO_TYPES = ("id", "text", "hash")
MAX_TEXT_MEMO = 64  # SEP-12's own example memo is a 36-character UUID
MAX_UINT64 = 2**64 - 1


@dataclass(frozen=True)
class Identity:
    """The customer a request addresses, and what the integration is told about it."""

    account: str  # as the integration sees it: the muxed M... or the G... account
    memo: str | None
    memo_type: str | None
    principal: str  # who owns the customer: the key of every ownership check
    whole_account: bool  # a plain-account token that named no memo

    def owns(self, owner: str) -> bool:
        """May this caller reach a customer (or file) owned by ``owner``?

        Exactly its own principal; a plain-account token that named no memo also
        reaches the memo sub-users it labelled itself (``G...:memo``).
        """
        if owner == self.principal:
            return True
        return self.whole_account and owner.startswith(self.principal + ":")

    def hook_params(self) -> dict[str, str | None]:
        return {"account": self.account, "memo": self.memo, "memo_type": self.memo_type}


def _canonical_memo(memo: str, memo_type: str | None) -> str:
    """The memo as Killick keys it; 400 when it does not fit its type."""
    if memo_type == "id" or (memo_type is None and memo.isdigit()):
        if not memo.isdigit() or int(memo) > MAX_UINT64:
            raise APIError(400, "memo: an id memo is an unsigned 64-bit integer")
        return str(int(memo))
    if memo_type == "hash":
        try:
            raw = base64.b64decode(memo, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise APIError(400, "memo: a hash memo is 32 bytes, base64-encoded")
        return memo
    if not memo or len(memo) > MAX_TEXT_MEMO or not memo.isprintable():
        raise APIError(400, f"memo: a text memo is 1 to {MAX_TEXT_MEMO} printable characters")
    return memo


def _same_memo(given: str, expected: str) -> bool:
    if given.isdigit() and expected.isdigit():
        return int(given) == int(expected)
    return given == expected


def resolve(token: SEP10Token, params: Mapping[str, str | None]) -> Identity:
    """The identity for ``token`` and the request's ``account``/``memo``/``memo_type``.

    Raises APIError(400) when a parameter contradicts the token or is malformed.
    """
    account = params.get("account") or None
    memo = params.get("memo") or None
    memo_type = params.get("memo_type") or None
    if memo_type is not None and memo_type not in MEMO_TYPES:
        raise APIError(400, "memo_type: must be id, text or hash")
    if account is not None and account not in (token.account, token.muxed_account):
        raise APIError(400, "account: does not match the account of the SEP-10 token")
    if token.muxed_account:
        muxed_id = str(MuxedAccount.from_account(token.muxed_account).account_muxed_id)
        if memo is not None and not _same_memo(memo, muxed_id):
            raise APIError(400, "memo: must equal the muxed id of the SEP-10 token's account")
        return Identity(token.muxed_account, muxed_id, "id", token.principal, False)
    if token.memo:
        if memo is not None and not _same_memo(memo, token.memo):
            raise APIError(400, "memo: does not match the memo of the SEP-10 token")
        return Identity(token.account, token.memo, "id", token.principal, False)
    if memo is None:
        return Identity(token.account, None, None, token.account, True)
    memo = _canonical_memo(memo, memo_type)
    return Identity(token.account, memo, memo_type, f"{token.account}:{memo}", False)
