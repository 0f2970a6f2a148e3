"""Create a Stellar asset on any Horizon that has a friendbot (sandbox or testnet).

This is the "create a Stellar asset" step of an anchor's setup: an issuer account, a
distribution account that trusts the asset and holds the issued supply, and optionally
channel accounts for parallel submissions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

from stellar_sdk import Asset, Keypair, ServerAsync, TransactionBuilder
from stellar_sdk.client.base_async_client import BaseAsyncClient
from stellar_sdk.exceptions import raise_request_exception

from .horizon_client import HttpxAsyncClient

MAX_OPERATIONS_PER_TX = 100


@dataclass(frozen=True)
class IssuedAsset:
    """Keys and facts of a freshly issued asset. The secrets are live credentials."""

    code: str
    issuer_public_key: str
    issuer_secret: str = field(repr=False)
    distribution_public_key: str
    distribution_secret: str = field(repr=False)
    amount: Decimal
    transaction_hash: str
    channel_public_keys: tuple[str, ...] = ()
    channel_secrets: tuple[str, ...] = field(default=(), repr=False)
    home_domain: str | None = None

    @property
    def asset(self) -> Asset:
        return Asset(self.code, self.issuer_public_key)


async def issue_asset(
    horizon_url: str,
    network_passphrase: str,
    code: str,
    *,
    amount: Decimal = Decimal("1000000"),
    channel_count: int = 0,
    client: BaseAsyncClient | None = None,
    friendbot_url: str | None = None,
    home_domain: str | None = None,
    fund_channels_with_friendbot: bool = False,
    channel_starting_balance: Decimal = Decimal("50"),
) -> IssuedAsset:
    """Issue `amount` of `code` to a new distribution account and return all keys.

    Accounts are funded by the friendbot at `friendbot_url` (default: `<horizon_url>/friendbot`;
    pass `https://friendbot.stellar.org` for testnet). Channel accounts are created from the
    distribution account's XLM unless `fund_channels_with_friendbot` is set.
    """
    if channel_count < 0 or channel_count > MAX_OPERATIONS_PER_TX - 3:
        raise ValueError(f"channel_count must be between 0 and {MAX_OPERATIONS_PER_TX - 3}")
    if amount <= 0:
        raise ValueError("amount must be positive")
    horizon_url = horizon_url.rstrip("/")
    friendbot_url = friendbot_url or f"{horizon_url}/friendbot"
    own_client = client is None
    http = client or HttpxAsyncClient()
    try:
        issuer = Keypair.random()
        distribution = Keypair.random()
        channels = [Keypair.random() for _ in range(channel_count)]
        asset = Asset(code, issuer.public_key)
        to_fund = [issuer, distribution]
        if fund_channels_with_friendbot:
            to_fund += channels
        await asyncio.gather(*(_friendbot(http, friendbot_url, kp.public_key) for kp in to_fund))

        server = ServerAsync(horizon_url, client=http)
        source = await server.load_account(issuer.public_key)
        base_fee = await server.fetch_base_fee()
        builder = TransactionBuilder(source, network_passphrase, base_fee=base_fee)
        builder.append_change_trust_op(asset, source=distribution.public_key)
        builder.append_payment_op(distribution.public_key, asset, str(amount))
        if home_domain:
            builder.append_set_options_op(home_domain=home_domain)
        if not fund_channels_with_friendbot:
            for channel in channels:
                builder.append_create_account_op(
                    channel.public_key,
                    str(channel_starting_balance),
                    source=distribution.public_key,
                )
        tx = builder.set_timeout(120).build()
        tx.sign(issuer)
        tx.sign(distribution)
        result = await server.submit_transaction(tx)
    finally:
        if own_client:
            await http.close()
    return IssuedAsset(
        code=code,
        issuer_public_key=issuer.public_key,
        issuer_secret=issuer.secret,
        distribution_public_key=distribution.public_key,
        distribution_secret=distribution.secret,
        amount=amount,
        transaction_hash=result["hash"],
        channel_public_keys=tuple(c.public_key for c in channels),
        channel_secrets=tuple(c.secret for c in channels),
        home_domain=home_domain,
    )


async def _friendbot(client: BaseAsyncClient, friendbot_url: str, account_id: str) -> None:
    response = await client.get(friendbot_url, params={"addr": account_id})
    raise_request_exception(response)
