"""path_payment_strict_send and path_payment_strict_receive through the fixed rate table.

Each hop between two different assets converts at the table's rate (rounded against the
payer, as the order book would) and is reported as a ClaimAtom sold by the network's root
account, so result XDR decoders (Horizon's SendAmount, stellar-sdk) read consistent amounts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from stellar_sdk import Asset, Keypair, xdr
from stellar_sdk.operation import PathPaymentStrictReceive, PathPaymentStrictSend

from . import results
from .amounts import stroops
from .applying import OK, ApplyContext, asset_string, can_credit, can_debit, credit, debit
from .rates import convert_in, convert_out
from .results import OpOutcome
from .state import Account

_SR, _RR, _OT = (
    xdr.PathPaymentStrictSendResultCode,
    xdr.PathPaymentStrictReceiveResultCode,
    xdr.OperationType,
)


@dataclass
class _Hop:
    sold: Asset  # what the market maker gives (towards the destination)
    amount_sold: int
    bought: Asset  # what it takes (from the payer's side)
    amount_bought: int


def _hops(assets: list[Asset]) -> list[tuple[Asset, Asset]]:
    pairs = []
    for left, right in itertools.pairwise(assets):
        if asset_string(left) != asset_string(right):
            pairs.append((left, right))
    return pairs


def strict_send(ctx: ApplyContext, op: PathPaymentStrictSend, source: Account) -> OpOutcome:
    codes = {
        "underfunded": _SR.PATH_PAYMENT_STRICT_SEND_UNDERFUNDED,
        "src_no_trust": _SR.PATH_PAYMENT_STRICT_SEND_SRC_NO_TRUST,
        "src_not_authorized": _SR.PATH_PAYMENT_STRICT_SEND_SRC_NOT_AUTHORIZED,
        "no_trust": _SR.PATH_PAYMENT_STRICT_SEND_NO_TRUST,
        "not_authorized": _SR.PATH_PAYMENT_STRICT_SEND_NOT_AUTHORIZED,
        "line_full": _SR.PATH_PAYMENT_STRICT_SEND_LINE_FULL,
    }

    def fail(code: xdr.PathPaymentStrictSendResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.PATH_PAYMENT_STRICT_SEND, code)

    destination = ctx.view.load(op.destination.account_id)
    if destination is None:
        return fail(_SR.PATH_PAYMENT_STRICT_SEND_NO_DESTINATION)
    send = stroops(op.send_amount)
    hops: list[_Hop] = []
    amount = send
    for sell, buy in _hops([op.send_asset, *op.path, op.dest_asset]):
        price = ctx.rates.price(asset_string(sell), asset_string(buy))
        if price is None:
            return fail(_SR.PATH_PAYMENT_STRICT_SEND_TOO_FEW_OFFERS)
        out = convert_out(amount, price)
        hops.append(_Hop(buy, out, sell, amount))
        amount = out
    received = amount
    if received < stroops(op.dest_min):
        return fail(_SR.PATH_PAYMENT_STRICT_SEND_UNDER_DESTMIN)
    why = _move(ctx, source, destination, op.send_asset, send, op.dest_asset, received)
    if why != OK:
        return fail(codes[why])
    success = xdr.PathPaymentStrictSendResultSuccess(
        offers=_claim_atoms(ctx, hops), last=_last(destination, op.dest_asset, received)
    )
    return results.inner_outcome(
        _OT.PATH_PAYMENT_STRICT_SEND,
        _SR.PATH_PAYMENT_STRICT_SEND_SUCCESS,
        {"amount": received},
        success=success,
    )


def strict_receive(ctx: ApplyContext, op: PathPaymentStrictReceive, source: Account) -> OpOutcome:
    codes = {
        "underfunded": _RR.PATH_PAYMENT_STRICT_RECEIVE_UNDERFUNDED,
        "src_no_trust": _RR.PATH_PAYMENT_STRICT_RECEIVE_SRC_NO_TRUST,
        "src_not_authorized": _RR.PATH_PAYMENT_STRICT_RECEIVE_SRC_NOT_AUTHORIZED,
        "no_trust": _RR.PATH_PAYMENT_STRICT_RECEIVE_NO_TRUST,
        "not_authorized": _RR.PATH_PAYMENT_STRICT_RECEIVE_NOT_AUTHORIZED,
        "line_full": _RR.PATH_PAYMENT_STRICT_RECEIVE_LINE_FULL,
    }

    def fail(code: xdr.PathPaymentStrictReceiveResultCode) -> OpOutcome:
        return results.inner_outcome(_OT.PATH_PAYMENT_STRICT_RECEIVE, code)

    destination = ctx.view.load(op.destination.account_id)
    if destination is None:
        return fail(_RR.PATH_PAYMENT_STRICT_RECEIVE_NO_DESTINATION)
    wanted = stroops(op.dest_amount)
    hops: list[_Hop] = []
    amount = wanted
    # Walk back from the destination, as stellar-core does for strict receive.
    for sell, buy in reversed(_hops([op.send_asset, *op.path, op.dest_asset])):
        price = ctx.rates.price(asset_string(sell), asset_string(buy))
        if price is None:
            return fail(_RR.PATH_PAYMENT_STRICT_RECEIVE_TOO_FEW_OFFERS)
        needed = convert_in(amount, price)
        hops.insert(0, _Hop(buy, amount, sell, needed))
        amount = needed
    sent = amount
    if sent > stroops(op.send_max):
        return fail(_RR.PATH_PAYMENT_STRICT_RECEIVE_OVER_SENDMAX)
    why = _move(ctx, source, destination, op.send_asset, sent, op.dest_asset, wanted)
    if why != OK:
        return fail(codes[why])
    success = xdr.PathPaymentStrictReceiveResultSuccess(
        offers=_claim_atoms(ctx, hops), last=_last(destination, op.dest_asset, wanted)
    )
    return results.inner_outcome(
        _OT.PATH_PAYMENT_STRICT_RECEIVE,
        _RR.PATH_PAYMENT_STRICT_RECEIVE_SUCCESS,
        {"source_amount": sent},
        success=success,
    )


def _move(
    ctx: ApplyContext,
    source: Account,
    destination: Account,
    send_asset: Asset,
    sent: int,
    dest_asset: Asset,
    received: int,
) -> str:
    """Debit the payer and credit the payee; receiving side first, as stellar-core does."""
    send_key, dest_key = asset_string(send_asset), asset_string(dest_asset)
    why = can_credit(destination, dest_key, received)
    if why != OK:
        return why
    if source is destination and send_key == dest_key:
        return OK if can_debit(ctx, source, send_key, sent) == OK else "underfunded"
    why = can_debit(ctx, source, send_key, sent)
    if why != OK:
        return why
    debit(ctx, source, send_key, sent)
    credit(ctx, destination, dest_key, received)
    return OK


def _claim_atoms(ctx: ApplyContext, hops: list[_Hop]) -> list[xdr.ClaimAtom]:
    seller = Keypair.from_public_key(ctx.market_maker).xdr_account_id()
    return [
        xdr.ClaimAtom(
            type=xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK,
            order_book=xdr.ClaimOfferAtom(
                seller_id=seller,
                offer_id=xdr.Int64(0),
                asset_sold=hop.sold.to_xdr_object(),
                amount_sold=xdr.Int64(hop.amount_sold),
                asset_bought=hop.bought.to_xdr_object(),
                amount_bought=xdr.Int64(hop.amount_bought),
            ),
        )
        for hop in hops
    ]


def _last(destination: Account, asset: Asset, amount: int) -> xdr.SimplePaymentResult:
    return xdr.SimplePaymentResult(
        destination=Keypair.from_public_key(destination.account_id).xdr_account_id(),
        asset=asset.to_xdr_object(),
        amount=xdr.Int64(amount),
    )
