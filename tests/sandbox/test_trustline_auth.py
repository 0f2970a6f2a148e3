"""Issuer flags and trustline authorisation: AUTH_REQUIRED / REVOCABLE / IMMUTABLE, clawback."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sandbox_helpers import balance_id_from, codes
from stellar_sdk import Asset, AuthorizationFlag, Claimant, TrustLineFlags
from stellar_sdk.operation import (
    AllowTrust,
    ChangeTrust,
    Clawback,
    ClawbackClaimableBalance,
    CreateClaimableBalance,
    Payment,
    SetOptions,
    SetTrustLineFlags,
)

# allow_trust is deprecated in stellar-sdk, but wallets and old issuers still send it.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REQUIRED, REVOCABLE = (
    AuthorizationFlag.AUTHORIZATION_REQUIRED,
    AuthorizationFlag.AUTHORIZATION_REVOCABLE,
)
CLAWBACK = AuthorizationFlag.AUTHORIZATION_CLAWBACK_ENABLED
IMMUTABLE = AuthorizationFlag.AUTHORIZATION_IMMUTABLE


def line_of(account: dict, asset: Asset) -> dict:
    return next(b for b in account["balances"] if b.get("asset_code") == asset.code)


async def test_auth_required_asset_needs_the_issuer_to_authorize(chain):
    issuer, alice, bob = await chain.fund(3)
    asset = Asset("EUR", issuer.public_key)
    await chain.submit(issuer, [SetOptions(set_flags=REQUIRED | REVOCABLE | CLAWBACK)])
    flags = (await chain.account(issuer))["flags"]
    assert flags == {
        "auth_required": True,
        "auth_revocable": True,
        "auth_immutable": False,
        "auth_clawback_enabled": True,
    }
    await chain.submit(alice, [ChangeTrust(asset)])
    await chain.submit(bob, [ChangeTrust(asset)])
    line = line_of(await chain.account(alice), asset)
    assert line["is_authorized"] is False
    assert line["is_authorized_to_maintain_liabilities"] is False
    assert line["is_clawback_enabled"] is True
    error = await chain.submit_failing(issuer, [Payment(alice.public_key, asset, "10")])
    assert codes(error)["operations"] == ["op_not_authorized"]

    # allow_trust (old style) for alice, set_trust_line_flags (new style) for bob.
    result = await chain.submit(
        issuer,
        [
            AllowTrust(alice.public_key, "EUR", True),
            SetTrustLineFlags(bob.public_key, asset, set_flags=TrustLineFlags.AUTHORIZED_FLAG),
            Payment(alice.public_key, asset, "10"),
        ],
    )
    ops = (await chain.server.operations().for_transaction(result["hash"]).call())["_embedded"]
    allow, flags_op, _ = ops["records"]
    assert allow["type"] == "allow_trust" and allow["authorize"] is True
    assert allow["trustee"] == issuer.public_key and allow["trustor"] == alice.public_key
    assert flags_op["type"] == "set_trust_line_flags"
    assert flags_op["set_flags_s"] == ["authorized"]
    assert line_of(await chain.account(alice), asset)["is_authorized"] is True

    # A balance made from a clawback-enabled holding can be clawed back by the issuer.
    created = await chain.submit(
        alice, [CreateClaimableBalance(asset, "1", [Claimant(bob.public_key)])]
    )
    balance_id = balance_id_from(created)
    record = await chain.server.claimable_balances().claimable_balance(balance_id).call()
    assert record["flags"] == {"clawback_enabled": True}
    await chain.submit(issuer, [ClawbackClaimableBalance(balance_id)])
    assert (
        await chain.client.get(f"{chain.url}/claimable_balances/{balance_id}")
    ).status_code == 404
    assert await chain.balance(alice, asset) == Decimal(9)

    # Authorised to maintain liabilities only: holding is fine, paying is not.
    await chain.submit(
        issuer,
        [
            SetTrustLineFlags(
                alice.public_key,
                asset,
                clear_flags=TrustLineFlags.AUTHORIZED_FLAG,
                set_flags=TrustLineFlags.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG,
            )
        ],
    )
    line = line_of(await chain.account(alice), asset)
    assert (line["is_authorized"], line["is_authorized_to_maintain_liabilities"]) == (False, True)
    error = await chain.submit_failing(alice, [Payment(bob.public_key, asset, "1")])
    assert codes(error)["operations"] == ["op_src_not_authorized"]

    # The issuer claws part of it back (the trustline inherited clawback from the flags).
    await chain.submit(issuer, [Clawback(asset, alice.public_key, "4")])
    assert await chain.balance(alice, asset) == Decimal(5)
    error = await chain.submit_failing(issuer, [Clawback(asset, alice.public_key, "6")])
    assert codes(error)["operations"] == ["op_underfunded"]
    await chain.submit(issuer, [AllowTrust(alice.public_key, "EUR", False)])
    assert (
        line_of(await chain.account(alice), asset)["is_authorized_to_maintain_liabilities"] is False
    )


async def test_revoking_needs_auth_revocable_and_immutable_freezes_flags(chain):
    issuer, alice = await chain.fund(2)
    asset = Asset("GBP", issuer.public_key)
    await chain.submit(issuer, [SetOptions(set_flags=REQUIRED)])
    await chain.submit(alice, [ChangeTrust(asset)])
    await chain.submit(issuer, [AllowTrust(alice.public_key, "GBP", True)])
    error = await chain.submit_failing(issuer, [AllowTrust(alice.public_key, "GBP", False)])
    assert codes(error)["operations"] == ["op_cant_revoke"]
    error = await chain.submit_failing(
        issuer,
        [SetTrustLineFlags(alice.public_key, asset, clear_flags=TrustLineFlags.AUTHORIZED_FLAG)],
    )
    assert codes(error)["operations"] == ["op_cant_revoke"]
    # Clawback without the flag on the trustline; set_trust_line_flags shape errors.
    error = await chain.submit_failing(issuer, [Clawback(asset, alice.public_key, "1")])
    assert codes(error)["operations"] == ["op_not_clawback_enabled"]
    both = TrustLineFlags.AUTHORIZED_FLAG | TrustLineFlags.AUTHORIZED_TO_MAINTAIN_LIABILITIES_FLAG
    error = await chain.submit_failing(
        issuer, [SetTrustLineFlags(alice.public_key, asset, set_flags=both)]
    )
    assert codes(error)["operations"] == ["op_malformed"]
    error = await chain.submit_failing(
        issuer, [SetTrustLineFlags(issuer.public_key, Asset("GBP", alice.public_key))]
    )
    assert codes(error)["operations"] == ["op_malformed"]
    # Clawback needs revocable.
    error = await chain.submit_failing(issuer, [SetOptions(set_flags=CLAWBACK)])
    assert codes(error)["operations"] == ["op_auth_revocable_required"]
    await chain.submit(issuer, [SetOptions(set_flags=IMMUTABLE)])
    error = await chain.submit_failing(issuer, [SetOptions(clear_flags=REQUIRED)])
    assert codes(error)["operations"] == ["op_cant_change"]
