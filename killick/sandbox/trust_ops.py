"""The issuer's side of trustlines: allow_trust, set_trust_line_flags and clawback.

Reducing a holder's authorisation needs AUTH_REVOCABLE on the issuer (`op_cant_revoke`);
since protocol 16 granting it does not need AUTH_REQUIRED.
"""

from __future__ import annotations

from stellar_sdk import Asset, xdr
from stellar_sdk.operation import AllowTrust, Clawback, SetTrustLineFlags

from . import results
from .amounts import stroops
from .applying import ApplyContext
from .results import OpOutcome
from .state import (
    AUTH_REVOCABLE,
    AUTHORIZED_FLAG,
    AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
    TRUSTLINE_CLAWBACK_ENABLED_FLAG,
    Account,
    asset_key,
)

_AT, _TF, _CW = xdr.AllowTrustResultCode, xdr.SetTrustLineFlagsResultCode, xdr.ClawbackResultCode
_OT = xdr.OperationType
_AUTH_BITS = AUTHORIZED_FLAG | AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG


def _revokes(old: int, new: int) -> bool:
    """True when `new` takes away authorisation `old` had (full → maintain → none)."""
    if old & AUTHORIZED_FLAG and not new & AUTHORIZED_FLAG:
        return True
    return bool(old & _AUTH_BITS) and not new & _AUTH_BITS


def allow_trust(ctx: ApplyContext, op: AllowTrust, source: Account) -> OpOutcome:
    def result(code: xdr.AllowTrustResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.ALLOW_TRUST, code)

    trustor = ctx.view.load(op.trustor)
    line = trustor.trustlines.get(asset_key(op.asset_code, source.account_id)) if trustor else None
    if trustor is None or line is None:
        return result(_AT.ALLOW_TRUST_NO_TRUST_LINE)
    new_flags = (line.flags & ~_AUTH_BITS) | int(op.authorize)
    if _revokes(line.flags, new_flags) and not source.flags & AUTH_REVOCABLE:
        return result(_AT.ALLOW_TRUST_CANT_REVOKE)
    line.flags = new_flags
    ctx.touch_line(line)
    ctx.touch(trustor)
    return result(_AT.ALLOW_TRUST_SUCCESS)


def set_trust_line_flags(ctx: ApplyContext, op: SetTrustLineFlags, source: Account) -> OpOutcome:
    def result(code: xdr.SetTrustLineFlagsResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.SET_TRUST_LINE_FLAGS, code)

    asset: Asset = op.asset
    trustor = ctx.view.load(op.trustor)
    line = trustor.trustlines.get(asset_key(asset.code, asset.issuer)) if trustor else None
    if trustor is None or line is None:
        return result(_TF.SET_TRUST_LINE_FLAGS_NO_TRUST_LINE)
    new_flags = (line.flags & ~int(op.clear_flags or 0)) | int(op.set_flags or 0)
    if _revokes(line.flags, new_flags) and not source.flags & AUTH_REVOCABLE:
        return result(_TF.SET_TRUST_LINE_FLAGS_CANT_REVOKE)
    if new_flags & _AUTH_BITS == _AUTH_BITS:
        return result(_TF.SET_TRUST_LINE_FLAGS_INVALID_STATE)
    line.flags = new_flags
    ctx.touch_line(line)
    ctx.touch(trustor)
    return result(_TF.SET_TRUST_LINE_FLAGS_SUCCESS)


def clawback(ctx: ApplyContext, op: Clawback, source: Account) -> OpOutcome:
    def result(code: xdr.ClawbackResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.CLAWBACK, code)

    holder = ctx.view.load(op.from_.account_id)
    key = asset_key(op.asset.code, op.asset.issuer)
    line = holder.trustlines.get(key) if holder else None
    if holder is None or line is None:
        return result(_CW.CLAWBACK_NO_TRUST)
    if not line.flags & TRUSTLINE_CLAWBACK_ENABLED_FLAG:
        return result(_CW.CLAWBACK_NOT_CLAWBACK_ENABLED)
    amount = stroops(op.amount)
    if line.balance < amount:
        return result(_CW.CLAWBACK_UNDERFUNDED)
    line.balance -= amount
    ctx.touch_line(line)
    ctx.touch(holder)
    ctx.touch(source)
    return result(_CW.CLAWBACK_SUCCESS)
