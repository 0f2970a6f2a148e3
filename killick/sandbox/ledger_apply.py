"""Applying one checked transaction inside a ledger close and recording it as Horizon does."""

from __future__ import annotations

import base64

from .applying import ApplyContext
from .envelope import ParsedTransaction
from .history import OperationRecord, TransactionRecord
from .memo import describe_memo
from .op_details import PAYMENT_TYPES, operation_details, operation_type
from .operations import apply_operation
from .rates import RateTable
from .results import InnerResult, transaction_result_xdr
from .state import LedgerView
from .validation import LedgerContext


class TransactionApplier:
    """Charges fees, consumes sequence numbers and runs operations for one ledger."""

    def __init__(
        self,
        view: LedgerView,
        ctx: LedgerContext,
        rates: RateTable,
        market_maker: str,
        fee_per_op: int,
    ) -> None:
        self.view = view
        self.ctx = ctx
        self.rates = rates
        self.market_maker = market_maker
        self.fee_per_op = fee_per_op
        """The ledger's price per operation: the base fee, or the surge price."""

    def fee_for(self, ptx: ParsedTransaction) -> int:
        """Everyone in a ledger pays its price per operation, never more than they bid."""
        return min(ptx.max_fee, self.fee_per_op * ptx.fee_operations)

    def apply(
        self, ptx: ParsedTransaction, order: int
    ) -> tuple[TransactionRecord, list[OperationRecord]]:
        ctx, view = self.ctx, self.view
        fee = self.fee_for(ptx)
        payer = view.load(ptx.fee_source_id)
        assert payer is not None  # checked by check_transaction
        payer.balance -= fee
        payer.last_modified_ledger = ctx.ledger_sequence
        payer.last_modified_time = ctx.close_time
        source = view.load(ptx.source_id)
        assert source is not None
        source.sequence = ptx.tx.sequence
        source.sequence_ledger = ctx.ledger_sequence
        source.sequence_time = ctx.close_time
        source.last_modified_ledger = ctx.ledger_sequence
        source.last_modified_time = ctx.close_time

        op_view = LedgerView(view)
        apply_ctx = ApplyContext(
            op_view,
            ctx.ledger_sequence,
            ctx.close_time,
            ctx.base_reserve,
            tx_source_id=ptx.source_id,
            tx_sequence=ptx.tx.sequence,
            rates=self.rates,
            market_maker=self.market_maker,
        )
        op_outcomes = []
        for index, op in enumerate(ptx.operations):
            apply_ctx.op_index = index
            op_outcomes.append(apply_operation(apply_ctx, op, ptx.op_source_id(op)))
        successful = all(o.success for o in op_outcomes)
        if successful:
            op_view.commit()
        inner_code = "tx_success" if successful else "tx_failed"
        if ptx.fee_bump is None:
            tx_code, inner = inner_code, None
            result_xdr = transaction_result_xdr(fee, tx_code, op_outcomes)
        else:
            tx_code = "tx_fee_bump_inner_success" if successful else "tx_fee_bump_inner_failed"
            inner = InnerResult(ptx.inner_hash, inner_code)
            result_xdr = transaction_result_xdr(fee, tx_code, op_outcomes, inner)
        record = self._transaction_record(ptx, order, fee, successful, tx_code, result_xdr)
        record.op_codes = [o.code for o in op_outcomes]
        op_records = []
        for index, (op, outcome) in enumerate(zip(ptx.operations, op_outcomes, strict=True), 1):
            type_name, type_i = operation_type(op)
            op_source = op.source or ptx.source
            details, participants = operation_details(
                op, op_source.account_id, op_source, outcome.details if successful else None
            )
            record.participants |= participants
            op_records.append(
                OperationRecord(
                    transaction=record,
                    index=index,
                    type=type_name,
                    type_i=type_i,
                    source_account=op_source.account_id,
                    source_muxed=op_source.account_muxed,
                    source_muxed_id=op_source.account_muxed_id,
                    details=details,
                    is_payment=type_name in PAYMENT_TYPES,
                    participants=participants,
                )
            )
        return record, op_records

    def _transaction_record(
        self,
        ptx: ParsedTransaction,
        order: int,
        fee: int,
        successful: bool,
        tx_code: str,
        result_xdr: str,
    ) -> TransactionRecord:
        ctx = self.ctx
        memo_type, memo, memo_bytes = describe_memo(ptx.tx.memo)
        bounds = ptx.tx.preconditions.time_bounds if ptx.tx.preconditions else None
        inner_signatures = [_b64(s.signature) for s in ptx.envelope.signatures]
        bump = ptx.fee_bump
        fee_source = ptx.fee_source
        return TransactionRecord(
            hash=ptx.hash_hex,
            ledger=ctx.ledger_sequence,
            application_order=order,
            closed_at=ctx.close_time,
            source_account=ptx.source_id,
            source_muxed=ptx.source.account_muxed,
            source_muxed_id=ptx.source.account_muxed_id,
            sequence=ptx.tx.sequence,
            fee_charged=fee,
            max_fee=ptx.max_fee,
            operation_count=len(ptx.operations),
            memo_type=memo_type,
            memo=memo,
            memo_bytes=memo_bytes,
            successful=successful,
            envelope_xdr=ptx.envelope_xdr,
            result_xdr=result_xdr,
            signatures=[_b64(s.signature) for s in bump.signatures] if bump else inner_signatures,
            valid_after=bounds.min_time if bounds else None,
            valid_before=bounds.max_time if bounds else None,
            tx_code=tx_code,
            op_codes=[],
            participants={ptx.source_id, ptx.fee_source_id},
            fee_account=ptx.fee_source_id,
            fee_account_muxed=fee_source.account_muxed,
            fee_account_muxed_id=fee_source.account_muxed_id,
            inner_hash=ptx.inner_hash.hex() if bump else None,
            inner_signatures=inner_signatures if bump else [],
            inner_max_fee=ptx.inner_max_fee if bump else 0,
            inner_tx_code=("tx_success" if successful else "tx_failed") if bump else None,
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
