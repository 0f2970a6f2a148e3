"""The "create a Stellar asset" setup step, run against the sandbox's friendbot."""

from __future__ import annotations

from decimal import Decimal

from stellar_sdk import Asset

from killick.stellar import issue_asset


async def test_issue_asset_funds_trusts_and_pays(chain):
    issued = await issue_asset(
        chain.url,
        chain.passphrase,
        "SRT",
        amount=Decimal("2500.5"),
        channel_count=2,
        client=chain.client,
        home_domain="anchor.example",
    )
    asset = Asset("SRT", issued.issuer_public_key)
    assert issued.asset == asset
    assert await chain.balance(issued.distribution_public_key, asset) == Decimal("2500.5")
    issuer = await chain.account(issued.issuer_public_key)
    assert issuer["home_domain"] == "anchor.example"
    for channel in issued.channel_public_keys:
        assert await chain.balance(channel) == Decimal("50")
    tx = await chain.server.transactions().transaction(issued.transaction_hash).call()
    assert tx["successful"] is True
    assert "secret" not in repr(issued) and issued.issuer_secret not in repr(issued)


async def test_issue_asset_with_friendbot_funded_channels(chain):
    issued = await issue_asset(
        chain.url,
        chain.passphrase,
        "LONGASSETCD",
        amount=Decimal("1"),
        channel_count=1,
        client=chain.client,
        fund_channels_with_friendbot=True,
    )
    assert await chain.balance(issued.channel_public_keys[0]) == Decimal("10000")
    assert len(issued.channel_secrets) == 1
