"""The classes an anchor subclasses: Killick calls these hooks; the anchor answers.

Every hook may be a plain method or ``async def``. Plain methods run in a thread pool,
so a blocking bank SDK never stalls the server. Transactions passed in have what hooks
read already loaded (``transaction.asset``); they must not be used to reach the
database. Hook signatures are fixed here, once; later Killick versions only add hooks
with defaults. ``token`` is a ``killick.sep10.SEP10Token``; ``request`` the Starlette
request (read headers from it, never the body, which Killick has already parsed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from killick.models import Transaction


class CustomerNotFound(Exception):
    """Raised by customer hooks for an unknown customer id (answered with a 404)."""


class DepositIntegration:
    """SEP-6 deposits: decide what the wallet is told when it asks to deposit."""

    def process_sep6_request(
        self,
        token: Any,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Called for ``GET/POST /deposit`` (and ``/deposit-exchange``) after Killick has
        validated ``params`` and built ``transaction`` (not yet committed).

        Return one of:
        * success: ``{"how": str, "instructions": {...}, "extra_info": {...}, "eta": int}``
          (any subset; set ``transaction.amount_fee``/``amount_out`` if known);
        * ``{"type": "non_interactive_customer_info_needed", "fields": [SEP-9 names]}``;
        * ``{"type": "customer_info_status", "status": "pending" | "denied"}``.
        Killick persists ``transaction`` when this returns (``transaction.save()`` is
        accepted and does the same). Raise ``ValueError`` to refuse with a 400.

        For ``/deposit-exchange`` (and ``/withdraw-exchange``) ``params`` also has
        ``source_asset``, ``destination_asset`` (as sent), ``sell_asset``, ``buy_asset``
        (SEP-38 ids) and ``quote_id``; ``amount`` is the sell amount, and ``transaction``
        already carries the terms (``amount_in``/``amount_out``, their assets, the fee),
        which a firm quote's keep whatever the hook sets.
        """
        raise NotImplementedError("this anchor does not take SEP-6 deposits")

    def patch_transaction(
        self,
        token: Any,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """``PATCH /transactions/{id}`` in ``pending_transaction_info_update``: check and
        store ``params`` (the fields named in ``required_info_updates``); raise
        ``ValueError`` to refuse with a 400. Killick then moves it to ``pending_anchor``."""
        raise NotImplementedError("this anchor does not accept transaction updates")

    def after_deposit(self, transaction: Transaction, *args: Any, **kwargs: Any) -> None:
        """Called once a deposit is ``completed`` (paid on Stellar). Optional."""


class WithdrawalIntegration:
    """SEP-6 withdrawals: decide what the wallet is told when it asks to withdraw."""

    def process_sep6_request(
        self,
        token: Any,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Called for ``GET/POST /withdraw`` (and ``/withdraw-exchange``). Same answers as
        the deposit hook; on success Killick adds ``account_id``, ``memo_type`` and the
        ``memo`` it generated (the hook may add ``extra_info``, ``eta``)."""
        raise NotImplementedError("this anchor does not take SEP-6 withdrawals")

    def patch_transaction(
        self,
        token: Any,
        request: Any,
        params: dict[str, Any],
        transaction: Transaction,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """As ``DepositIntegration.patch_transaction``, for withdrawals."""
        raise NotImplementedError("this anchor does not accept transaction updates")

    def after_withdrawal(self, transaction: Transaction, *args: Any, **kwargs: Any) -> None:
        """Called once a withdrawal is ``completed``. Optional."""


class CustomerIntegration:
    """SEP-12 KYC: the anchor stores customers and decides their status."""

    def get(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """``GET /customer``: ``params`` has ``id``, ``account``, ``memo``, ``type``,
        ``transaction_id``, ``lang``. Return the SEP-12 body (``id`` when known,
        ``status``, ``fields``, ``provided_fields``, ``message``). Raise
        ``CustomerNotFound`` for an unknown ``id``."""
        raise NotImplementedError("this anchor does not implement SEP-12")

    def put(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> str:
        """``PUT /customer``: store the SEP-9 fields in ``params``; return the customer
        id. Raise ``ValueError`` for bad field values (400)."""
        raise NotImplementedError("this anchor does not implement SEP-12")

    def delete(
        self,
        token: Any,
        request: Any,
        account: str,
        memo: str | None,
        memo_type: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """``DELETE /customer/{account}``: erase the customer's personal data."""
        raise NotImplementedError("this anchor does not delete customers")

    def callback(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> None:
        """``PUT /customer/callback``: Killick stores the URL; this hook is informative."""

    def put_verification(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """``PUT /customer/verification`` (deprecated): check ``*_verification`` codes;
        return the ``GET /customer`` body."""
        raise NotImplementedError("this anchor does not verify fields")

    def more_info_url(self, account: str, *args: Any, **kwargs: Any) -> str | None:
        """A page where the user can see the status of their KYC. Optional."""
        return None

    def post_file(
        self,
        token: Any,
        request: Any,
        file: Any,
        customer_id: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``POST /customer/files``: store ``file`` (name, content_type, data bytes);
        return ``{"file_id", "content_type", "size", "expires_at"?, "customer_id"?}``."""
        raise NotImplementedError("this anchor does not accept file uploads")

    def get_files(
        self,
        token: Any,
        request: Any,
        file_id: str | None,
        customer_id: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """``GET /customer/files``: the files matching ``file_id`` or ``customer_id``."""
        return []

    def list_customers(self, offset: int, limit: int, *args: Any, **kwargs: Any) -> list[dict]:
        """For the admin view's customers page (optional): up to ``limit`` customers from
        ``offset``, newest first, each a dict with ``id``, ``status`` and, if known,
        ``account``, ``memo``, ``type``, ``created_at``, plus any KYC fields. Mask KYC
        values here; Killick masks again every key but those six before showing them."""
        raise NotImplementedError("this anchor's customer integration does not list customers")


class RailsIntegration:
    """The off-chain rails: the anchor's bank. Called by ``killick worker`` in pages."""

    def poll_pending_deposits(
        self, pending_deposits: list[Transaction], *args: Any, **kwargs: Any
    ) -> list[Transaction]:
        """Of these deposits waiting for the user's off-chain funds, return those whose
        funds arrived (set ``amount_in``/``amount_fee``/``amount_out`` if they changed).
        Returning a deposit twice is harmless: it is moved once."""
        return []

    def execute_outgoing_transaction(
        self, transaction: Transaction, idempotency_key: str, *args: Any, **kwargs: Any
    ) -> None:
        """Send a withdrawal's off-chain payment. Must be idempotent on
        ``idempotency_key`` (the transaction id): after a crash Killick calls it again
        with the same key, and the bank must not pay twice."""
        raise NotImplementedError("this anchor cannot send off-chain payments")

    def poll_outgoing_transactions(
        self, transactions: list[Transaction], *args: Any, **kwargs: Any
    ) -> list[Transaction]:
        """Of these withdrawals sent to the bank, return those the bank confirmed."""
        return []


class QuoteIntegration:
    """SEP-38 prices and firm quotes (docs/sep38.md). Killick has checked the request
    (assets traded, pair offered, amounts within decimals, delivery methods, country) and
    checks every answer: amounts within each asset's decimals, a fee in the sell or buy
    asset whose ``details`` add up to its ``total``, and the price formulas
    (``sell_amount = total_price * buy_amount``; ``sell_amount - fee = price * buy_amount``
    with the fee in the sell asset, ``sell_amount = price * (buy_amount + fee)`` with it
    in the buy asset) to the decimals of the amounts; ``killick.sep38.fit_price`` gives
    the shortest price that holds. Amounts and prices are decimal strings or Decimals,
    never floats. Raise ``ValueError`` to refuse with a 400; a wrong answer is logged
    and the wallet gets a 500. ``token`` is None where authentication is optional and
    the wallet sent none. ``killick.integrations.fixed_rate.FixedRateQuotes`` is a
    complete example."""

    def get_prices(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """``GET /prices``: ``params`` has ``sell_asset`` or ``buy_asset`` (the other is
        None), ``sell_amount``/``buy_amount`` (Decimal or None), ``sell_delivery_method``,
        ``buy_delivery_method``, ``country_code``, ``assets`` (the counter assets that may
        be priced) and ``decimals`` (asset id -> decimals). Return ``[{"asset", "price"}]``
        for those of ``assets`` the anchor offers now; ``price`` is the price of one unit
        of the buy asset in the sell asset, margin included. Killick adds ``decimals``."""
        raise NotImplementedError("this anchor does not offer quotes")

    def get_price(
        self, token: Any, request: Any, params: dict[str, Any], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """``GET /price`` (and SEP-6 exchanges without a quote, for the sell amount given):
        ``params`` has ``sell_asset``, ``buy_asset``, one of ``sell_amount``/``buy_amount``
        (Decimal; the other None), ``sell_delivery_method``, ``buy_delivery_method``,
        ``country_code``, ``context`` (``sep6`` or ``sep31``), ``sell_decimals`` and
        ``buy_decimals``. Return ``{"total_price", "price", "sell_amount", "buy_amount",
        "fee": {"total", "asset", "details"?: [{"name", "description"?, "amount"}]}}``."""
        raise NotImplementedError("this anchor does not offer quotes")

    def post_quote(self, token: Any, request: Any, quote: Any, *args: Any, **kwargs: Any) -> Any:
        """``POST /quote``: fill in a firm price and expiry on ``quote`` (a
        ``killick.models.Quote``, not yet stored) and return it. Killick has set
        ``principal``, ``context`` (``sep6``, ``sep24`` or ``sep31``), ``sell_asset``,
        ``buy_asset``, one of ``sell_amount``/``buy_amount``, ``sell_decimals``,
        ``buy_decimals``, the delivery methods, ``country_code`` and
        ``requested_expire_after`` (the wallet's ``expire_after`` or None): leave those as
        they are. Set ``sell_amount``, ``buy_amount``, ``price``, ``total_price``, ``fee``
        (as in ``get_price``) and ``expires_at`` (an aware datetime in the future; one
        before ``requested_expire_after`` makes Killick answer 400). Reserve the amount
        until ``expires_at``: SEP-38 asks anchors to hold firm quotes."""
        raise NotImplementedError("this anchor does not offer quotes")
