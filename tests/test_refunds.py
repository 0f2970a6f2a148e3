"""Out-of-range withdrawal payments are paid back on the sandbox: exactly once, to the
sender (an M… address included), with SEP-6's refund memo, shown in ``refunds`` and
told to the wallet — whatever Horizon does, and when the worker is killed."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import select
from stellar_sdk import Keypair, MuxedAccount

from killick.app import create_app
from killick.models import Event, Submission, Transaction, UnmatchedPayment
from killick.refunds import NoRefundMemo, refund_memo
from killick.workers.callbacks import Callbacks
from killick.workers.refunds import Refunds
from tests.sep6_support import Wallet, use_hooks
from tests.stellar_support import (
    StellarEnv,
    add_withdrawal,
    balance,
    fund_with_asset,
    new_wallet,
    pay,
    payments_received,
    status_of,
    stellar_env,
)
from tests.test_observer import observe
from tests.test_worker_callbacks import Wallet as CallbackWallet
from tests.test_worker_callbacks import wallet_server
from tests.test_worker_kill import kill, start_worker, submissions, wait_for

FUNDS = "500"
LAG_LEDGERS = 40  # reads 2 s behind (the sandbox closes a ledger every 0.05 s)
LAG_SECONDS = LAG_LEDGERS * 0.05


def test_the_refund_memo_is_the_wallets_else_the_one_the_user_paid_with() -> None:
    hashed = base64.b64encode(bytes(range(32))).decode()

    def memo(**values: str | None) -> tuple[str, str] | None:
        return refund_memo(Transaction(kind="withdrawal", **values))

    assert memo(refund_memo="007", refund_memo_type="id", withdraw_memo="9") == ("id", "7")
    assert memo(refund_memo=hashed, refund_memo_type="hash") == ("hash", hashed)
    assert memo(withdraw_memo="hello", withdraw_memo_type="text") == ("text", "hello")
    assert memo(withdraw_memo_type="id") is None  # paid to an M… address: no memo
    assert memo() is None
    for bad in ({"refund_memo": "x", "refund_memo_type": "id"}, {"withdraw_memo": "a" * 29}):
        try:
            memo(withdraw_memo_type="text", **bad)
        except NoRefundMemo:
            continue
        raise AssertionError(f"{bad} accepted")


def make(env: StellarEnv) -> Refunds:
    refunds = Refunds(env.context, "worker-a")
    refunds.resubmit_after = timedelta(0)
    return refunds


async def refund_until_done(
    env: StellarEnv, refunds: Refunds, ids: list[str], seconds: float = 30
) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await refunds.run_once()
        if all([(await status_of(env, i)).refunded for i in ids]):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not refunded in time")


async def funded_wallet(env: StellarEnv) -> Keypair:
    wallet = await new_wallet(env)
    await fund_with_asset(env, wallet, FUNDS)
    return wallet


async def assert_refunded_once(env: StellarEnv, wallet: Keypair, amount: str) -> None:
    """On the network: the funding, then exactly one refund of ``amount``."""
    received = await payments_received(env, wallet.public_key)
    assert sorted(Decimal(p["amount"]) for p in received) == sorted(
        [Decimal(FUNDS), Decimal(amount)]
    )
    assert await balance(env, wallet.public_key) == Decimal(FUNDS)


async def too_small(env: StellarEnv, wallet: Keypair, memo: int, paid: str = "40") -> str:
    """A withdrawal of 100 the wallet paid ``paid`` for, observed as too small."""
    withdrawal_id = await add_withdrawal(env, str(memo), "100")
    await pay(env, wallet, env.asset.distribution_account, paid, memo_id=memo)
    await observe(env)
    assert (await status_of(env, withdrawal_id)).status == "too_small"
    return withdrawal_id


async def refund_record(env: StellarEnv, withdrawal_id: str) -> dict:
    txn = await status_of(env, withdrawal_id)
    [payment] = txn.refunds["payments"]
    return await env.horizon.transactions().transaction(payment["id"]).call()


@asynccontextmanager
async def api(env: StellarEnv) -> AsyncIterator[httpx.AsyncClient]:
    use_hooks(withdraw={})
    app = create_app(env.context.settings, engine=env.context.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_a_too_small_payment_is_refunded_once_with_the_refund_memo(
    database_url, engine
) -> None:
    async with stellar_env(database_url, engine) as env, api(env) as client:
        keypair = await funded_wallet(env)
        wallet = Wallet(client, keypair.public_key)
        callbacks_wallet = CallbackWallet()
        async with wallet_server(callbacks_wallet) as base:
            response = await wallet.get(
                "/withdraw",
                asset_code=env.asset.code,
                amount="100",
                type="bank_account",
                refund_memo="refund 42",
                refund_memo_type="text",
                on_change_callback=f"http://{base}/cb",
            )
            assert response.status_code == 200, response.text
            body = response.json()
            await pay(env, keypair, body["account_id"], "40.5", memo_id=int(body["memo"]))
            await observe(env)
            assert (await status_of(env, body["id"])).status == "too_small"

            refunds = make(env)
            await refund_until_done(env, refunds, [body["id"]])
            assert await refunds.run_once() == 0  # nothing left: never paid again
            await assert_refunded_once(env, keypair, "40.5")
            record = await refund_record(env, body["id"])
            assert (record["memo_type"], record["memo"]) == ("text", "refund 42")

            # The wallet reads the refund, the status still saying why.
            found = (await wallet.get("/transaction", id=body["id"])).json()["transaction"]
            assert found["status"] == "too_small"
            assert found["amount_in"] == "40.5000000"
            assert (found["amount_fee"], found["amount_out"]) == ("0.0000000", "0.0000000")
            assert found["refunded"] is True
            assert found["refunds"] == {
                "amount_refunded": "40.5000000",
                "amount_fee": "0.0000000",
                "payments": [
                    {
                        "id": record["hash"],
                        "id_type": "stellar",
                        "amount": "40.5000000",
                        "fee": "0.0000000",
                    }
                ],
            }

            # The outbox has the change, and the callbacks loop delivers it.
            async with env.context.sessions() as session:
                events = (
                    await session.scalars(
                        select(Event).where(Event.transaction_id == body["id"]).order_by(Event.id)
                    )
                ).all()
                [payment] = (await session.scalars(select(UnmatchedPayment))).all()
            last = events[-1]
            assert (last.from_status, last.to_status) == ("too_small", "too_small")
            assert last.payload["transaction"]["refunds"] == found["refunds"]
            assert payment.refunded_at is not None and payment.transaction_id == body["id"]
            loop = Callbacks(env.context, "worker-a")
            try:
                for _ in range(10):
                    if await loop.run_once() == 0:
                        break
            finally:
                await loop.aclose()
        delivered = [json.loads(b)["transaction"] for _, _, b in callbacks_wallet.received]
        assert [t["status"] for t in delivered][-2:] == ["too_small", "too_small"]
        assert "refunds" not in delivered[-2] and delivered[-1]["refunds"] == found["refunds"]


async def test_without_a_refund_memo_the_payment_memo_goes_back_to_the_muxed_sender(
    database_url, engine
) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        sender = MuxedAccount(wallet.public_key, 8_000_000_001).account_muxed
        withdrawal_id = await add_withdrawal(env, "4242", "10")
        await pay(env, wallet, env.asset.distribution_account, "25", memo_id=4242, sender=sender)
        await observe(env)
        assert (await status_of(env, withdrawal_id)).status == "too_large"
        await refund_until_done(env, make(env), [withdrawal_id])
        await assert_refunded_once(env, wallet, "25")
        record = await refund_record(env, withdrawal_id)
        assert (record["memo_type"], record["memo"]) == ("id", "4242")
        [refund] = [
            p
            for p in await payments_received(env, wallet.public_key)
            if p["transaction_hash"] == record["hash"]
        ]
        assert refund["to_muxed"] == sender
        assert (await status_of(env, withdrawal_id)).status == "too_large"


async def test_switched_off_the_payment_stays_for_the_operator(database_url, engine) -> None:
    async with stellar_env(database_url, engine, WITHDRAWAL_REFUNDS_AUTOMATIC=False) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 31)
        assert await make(env).run_once() == 0
        assert await balance(env, wallet.public_key) == Decimal(FUNDS) - 40
        txn = await status_of(env, withdrawal_id)
        assert (txn.refunded, txn.refunds, txn.envelope_hash) == (False, None, None)
        async with env.context.sessions() as session:
            [payment] = (await session.scalars(select(UnmatchedPayment))).all()
        assert payment.refunded_at is None


async def test_a_payment_the_operator_refunded_by_hand_is_not_paid_again(
    database_url, engine
) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        by_hand = await too_small(env, wallet, 51)
        automatic = await too_small(env, wallet, 52, paid="30")
        async with env.context.sessions() as session:
            payment = await session.scalar(
                select(UnmatchedPayment).where(UnmatchedPayment.transaction_id == by_hand)
            )
            payment.refunded_at = payment.received_at
            await session.commit()
        await refund_until_done(env, make(env), [automatic])
        assert not (await status_of(env, by_hand)).refunded
        assert await balance(env, wallet.public_key) == Decimal(FUNDS) - 40


async def test_refunds_without_a_memo_share_an_envelope(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        distribution = env.asset.distribution_account
        ids = []
        for muxed_id in (11, 12, 13):  # withdrawals paid to M… addresses: no memo
            anchor = MuxedAccount(distribution, muxed_id).account_muxed
            ids.append(await add_withdrawal(env, None, "100", anchor_account=anchor))
            await pay(env, wallet, anchor, "7")
        async with env.context.sessions() as session:
            for withdrawal_id in ids:  # add_withdrawal gives an id memo type; none here
                txn = await session.get(Transaction, withdrawal_id)
                txn.withdraw_memo_type = None
            await session.commit()
        await observe(env)
        assert {(await status_of(env, i)).status for i in ids} == {"too_small"}
        await refund_until_done(env, make(env), ids)
        hashes = {(await status_of(env, i)).refunds["payments"][0]["id"] for i in ids}
        assert len(hashes) == 1
        record = await env.horizon.transactions().transaction(hashes.pop()).call()
        assert record["memo_type"] == "none"
        assert await balance(env, wallet.public_key) == Decimal(FUNDS)


# -- faults: each refund paid exactly once, counted on the network ---------------------------


async def test_timeout_after_applying_is_resolved_by_hash(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 61)
        env.network.faults.fail_next_submissions_with_timeout(1)
        await refund_until_done(env, make(env), [withdrawal_id])
        await assert_refunded_once(env, wallet, "40")
        assert [s.status for s in await submissions(env)] == ["applied"]


async def test_bad_seq_once_resubmits_the_same_envelope(database_url, engine) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 62)
        env.network.faults.fail_next_submissions_with_bad_seq(1)
        await refund_until_done(env, make(env), [withdrawal_id])
        await assert_refunded_once(env, wallet, "40")
        [submission] = await submissions(env)
        assert submission.submit_attempts >= 2  # the same envelope, not a rebuilt one


async def test_expired_unapplied_envelope_is_rebuilt_once(database_url, engine) -> None:
    async with stellar_env(database_url, engine, SUBMISSION_TIME_BOUND_SECONDS=2) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 63)
        env.network.faults.fail_next_submissions_with_bad_seq(10_000)
        refunds = make(env)
        for _ in range(30):
            await refunds.run_once()
            await asyncio.sleep(0.1)
        env.network.faults.reset("bad_seq")
        await refund_until_done(env, refunds, [withdrawal_id])
        await assert_refunded_once(env, wallet, "40")
        statuses = [s.status for s in await submissions(env)]
        assert statuses.count("applied") == 1 and "abandoned" in statuses


async def test_the_deposits_loop_resolves_a_refund_envelope_too(database_url, engine) -> None:
    """Any settlement loop may resolve any saved envelope: refunds are recorded right."""
    from killick.workers.settlement import Settlement

    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 64)
        await asyncio.sleep(LAG_SECONDS + 0.5)  # what stale reads show is current enough
        # Applied, answer lost, reads lagging: the refunds loop saves and cannot tell.
        env.network.faults.fail_next_submissions_with_timeout(1)
        env.network.faults.lag(LAG_LEDGERS)
        await Refunds(env.context, "worker-a").run_once()  # resubmits after 5 s only
        assert not (await status_of(env, withdrawal_id)).refunded  # saved, not resolved
        env.network.faults.reset("lag_ledgers")
        settlement = Settlement(env.context, "worker-b")
        for _ in range(50):
            await settlement.run_once()
            if (await status_of(env, withdrawal_id)).refunded:
                break
            await asyncio.sleep(0.1)
        await assert_refunded_once(env, wallet, "40")
        assert (await status_of(env, withdrawal_id)).refunds is not None


async def test_killed_with_a_saved_unapplied_refund(database_url, engine, tmp_path) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await add_withdrawal(env, "71", "100")
        await pay(env, wallet, env.asset.distribution_account, "40", memo_id=71)
        env.network.faults.fail_next_submissions_with_bad_seq(10_000)  # never applied
        worker = await start_worker(env, database_url, tmp_path, "first")
        try:  # the worker observes the payment, saves the refund, and dies
            await wait_for(lambda: _has_submission(env))
        finally:
            await kill(worker)
        env.network.faults.reset("bad_seq")
        worker = await start_worker(env, database_url, tmp_path, "second")
        try:
            await wait_for(lambda: _refunded(env, withdrawal_id))
        finally:
            await kill(worker)
        await assert_refunded_once(env, wallet, "40")


async def test_killed_after_applying_before_recording(database_url, engine, tmp_path) -> None:
    async with stellar_env(database_url, engine) as env:
        wallet = await funded_wallet(env)
        withdrawal_id = await too_small(env, wallet, 72)
        await asyncio.sleep(LAG_SECONDS + 0.5)  # what stale reads show is current enough
        # Applied, the answer lost, reads lagging: the worker dies knowing nothing.
        env.network.faults.fail_next_submissions_with_timeout(1)
        env.network.faults.lag(LAG_LEDGERS)
        worker = await start_worker(env, database_url, tmp_path, "first")
        try:
            await wait_for(lambda: _has_submission(env))
            await asyncio.sleep(0.5)
        finally:
            await kill(worker)
        env.network.faults.reset("lag_ledgers")
        worker = await start_worker(env, database_url, tmp_path, "second")
        try:
            await wait_for(lambda: _refunded(env, withdrawal_id))
        finally:
            await kill(worker)
        await assert_refunded_once(env, wallet, "40")
        # The first worker's envelope, found by hash: never rebuilt.
        assert [s.status for s in await submissions(env)] == ["applied"]


async def _has_submission(env: StellarEnv) -> bool:
    async with env.context.sessions() as session:
        return (await session.scalar(select(Submission.hash).limit(1))) is not None


async def _refunded(env: StellarEnv, withdrawal_id: str) -> bool:
    return (await status_of(env, withdrawal_id)).refunded
