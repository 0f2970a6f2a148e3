"""SEP-10 against the sandbox network: one test per rejection rule, and the accepting paths."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from stellar_sdk import (
    Account,
    Asset,
    Keypair,
    MuxedAccount,
    Network,
    ServerAsync,
    Signer,
    StrKey,
    TransactionBuilder,
    TransactionEnvelope,
)
from stellar_sdk.sep.stellar_web_authentication import read_challenge_transaction

from killick.app import create_app
from killick.sandbox import running_sandbox
from killick.sep10 import SEP10Token
from killick.sep10.challenge import build_challenge
from killick.sep10.client_domain import ClientDomainError, ClientDomainKeys
from killick.stellar.horizon_client import HttpxAsyncClient
from tests.helpers import JWT_KEY, SIGNING, make_settings
from tests.servers import serve_asgi

PASSPHRASE = Network.TESTNET_NETWORK_PASSPHRASE


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    async with running_sandbox(ledger_seconds=0.05) as running:
        yield running.url


@pytest.fixture
async def horizon(sandbox: str) -> AsyncIterator[ServerAsync]:
    server = ServerAsync(sandbox, client=HttpxAsyncClient())
    yield server
    await server.close()


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def auth(database_url, engine, sandbox) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(DATABASE_URL=database_url, HORIZON_URI=sandbox), engine=engine)
    async with client_for(app) as client:
        yield client


async def challenge(client: httpx.AsyncClient, **params: str) -> str:
    response = await client.get("/auth", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["network_passphrase"] == PASSPHRASE
    return response.json()["transaction"]


def sign(xdr: str, *keypairs: Keypair) -> str:
    envelope = TransactionEnvelope.from_xdr(xdr, PASSPHRASE)
    for keypair in keypairs:  # appended directly, so a duplicate signature can be made
        envelope.signatures.append(keypair.sign_decorated(envelope.hash()))
    return envelope.to_xdr()


async def post(client: httpx.AsyncClient, xdr: str, *, form: bool = False) -> httpx.Response:
    if form:
        return await client.post("/auth", data={"transaction": xdr})
    return await client.post("/auth", json={"transaction": xdr})


async def fund(sandbox: str, account: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{sandbox}/friendbot", params={"addr": account})
        assert response.status_code == 200, response.text


async def claims(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return jwt.decode(
        response.json()["token"],
        JWT_KEY,
        algorithms=["HS256"],
        audience=None,
        options={"verify_aud": False},
    )


# -- GET: the challenge -----------------------------------------------------------------------


async def test_challenge_has_the_spec_shape(auth: httpx.AsyncClient) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key, memo="42")
    read = read_challenge_transaction(
        xdr, SIGNING.public_key, "testserver", "testserver", PASSPHRASE
    )
    transaction = read.transaction.transaction
    assert transaction.sequence == 0
    bounds = transaction.preconditions.time_bounds
    assert bounds.max_time - bounds.min_time == 900
    first, second = transaction.operations
    assert first.data_name == "testserver auth" and first.source.account_id == client.public_key
    assert len(base64.b64decode(first.data_value)) == 48
    assert second.data_name == "web_auth_domain" and second.data_value == b"testserver"
    assert second.source.account_id == SIGNING.public_key
    assert read.memo == 42
    assert len(read.transaction.signatures) == 1
    other = await challenge(auth, account=client.public_key)
    assert other != xdr  # a fresh nonce every time


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, "account"),
        ({"account": "GABC"}, "account"),
        ({"account": "C" + "A" * 55}, "account"),
        ({"account": Keypair.random().public_key, "memo": "abc"}, "memo"),
        ({"account": Keypair.random().public_key, "memo": str(2**64)}, "memo"),
        (
            {"account": MuxedAccount(Keypair.random().public_key, 5).account_muxed, "memo": "1"},
            "memo",
        ),
        ({"account": Keypair.random().public_key, "home_domain": "evil.example"}, "home_domain"),
        ({"account": Keypair.random().public_key, "client_domain": "127.0.0.1:9"}, "client_domain"),
    ],
)
async def test_bad_challenge_requests_are_400(auth, params, names) -> None:
    response = await auth.get("/auth", params=params)
    assert response.status_code == 400
    assert names in response.json()["error"]
    assert response.headers["access-control-allow-origin"] == "*"


async def test_muxed_accounts_need_sep23_enabled(database_url, engine, sandbox) -> None:
    app = create_app(
        make_settings(DATABASE_URL=database_url, HORIZON_URI=sandbox, ENABLE_SEP_0023=False),
        engine=engine,
    )
    muxed = MuxedAccount(Keypair.random().public_key, 2**63 + 5).account_muxed
    async with client_for(app) as client:
        response = await client.get("/auth", params={"account": muxed})
    assert response.status_code == 400 and "muxed" in response.json()["error"]


# -- POST: accepting paths ----------------------------------------------------------------------


async def test_unfunded_account_signed_by_master_key_gets_a_token(auth) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key)
    response = await post(auth, sign(xdr, client))
    body = await claims(response)
    assert body["sub"] == client.public_key
    assert body["iss"] == "http://testserver/auth"
    assert body["exp"] - body["iat"] == 86400
    assert "client_domain" not in body
    token = SEP10Token.decode(response.json()["token"], JWT_KEY, "http://testserver/auth")
    assert token.principal == client.public_key


async def test_form_encoded_body_is_accepted(auth) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key)
    assert (await claims(await post(auth, sign(xdr, client), form=True)))[
        "sub"
    ] == client.public_key


async def test_memo_and_muxed_subjects(auth) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key, memo="18446744073709551615")
    body = await claims(await post(auth, sign(xdr, client)))
    assert body["sub"] == f"{client.public_key}:18446744073709551615"
    muxed = MuxedAccount(client.public_key, 2**63 + 5).account_muxed
    xdr = await challenge(auth, account=muxed)
    assert (await claims(await post(auth, sign(xdr, client))))["sub"] == muxed


async def test_funded_account_needs_medium_threshold_of_its_signers(auth, sandbox, horizon) -> None:
    master, second, stranger = Keypair.random(), Keypair.random(), Keypair.random()
    await fund(sandbox, master.public_key)
    source = await horizon.load_account(master.public_key)
    tx = (
        TransactionBuilder(source, PASSPHRASE, 100)
        .append_set_options_op(signer=Signer.ed25519_public_key(second.public_key, 1))
        .append_set_options_op(master_weight=1, low_threshold=1, med_threshold=2, high_threshold=2)
        .set_timeout(60)
        .build()
    )
    tx.sign(master)
    await horizon.submit_transaction(tx)

    async def attempt(*keys: Keypair) -> httpx.Response:
        return await post(auth, sign(await challenge(auth, account=master.public_key), *keys))

    assert (await attempt(master)).status_code == 400  # weight 1 < 2
    assert "threshold" in (await attempt(master)).json()["error"]
    assert (await attempt(master, stranger)).status_code == 400  # a non-signer
    assert (await attempt(master, master)).status_code == 400  # duplicate signature
    assert (await claims(await attempt(master, second)))["sub"] == master.public_key


async def test_client_domain_is_verified_and_claimed(auth) -> None:
    wallet_key = Keypair.random()

    async def toml(_request):
        return PlainTextResponse(f'SIGNING_KEY = "{wallet_key.public_key}"\n')

    wallet = Starlette(routes=[Route("/.well-known/stellar.toml", toml)])
    client = Keypair.random()
    async with serve_asgi(wallet) as domain:
        xdr = await challenge(auth, account=client.public_key, client_domain=domain)
        envelope = TransactionEnvelope.from_xdr(xdr, PASSPHRASE)
        op = envelope.transaction.operations[2]
        assert op.data_name == "client_domain" and op.source.account_id == wallet_key.public_key
        assert (await post(auth, sign(xdr, client))).status_code == 400  # domain key missing
        xdr = await challenge(auth, account=client.public_key, client_domain=domain)
        body = await claims(await post(auth, sign(xdr, client, wallet_key)))
    assert body["client_domain"] == domain


async def test_outside_local_mode_a_client_domain_on_a_private_address_is_never_fetched() -> None:
    asked: list[str] = []

    async def toml(request):
        asked.append(request.url.path)
        return PlainTextResponse(f'SIGNING_KEY = "{Keypair.random().public_key}"\n')

    wallet = Starlette(routes=[Route("/.well-known/stellar.toml", toml)])
    async with serve_asgi(wallet) as domain:
        keys = ClientDomainKeys(timeout=2.0, allow_http=False)
        try:
            with pytest.raises(ClientDomainError, match="loopback"):
                await keys.signing_key(domain)
        finally:
            await keys.close()
        local = ClientDomainKeys(timeout=2.0, allow_http=True)  # LOCAL_MODE: development
        try:
            assert StrKey.is_valid_ed25519_public_key(await local.signing_key(domain))
        finally:
            await local.close()
    assert asked == ["/.well-known/stellar.toml"]  # only the LOCAL_MODE fetch reached it


# -- POST: rejection rules ----------------------------------------------------------------------


async def test_a_challenge_is_exchanged_only_once(auth) -> None:
    client = Keypair.random()
    signed = sign(await challenge(auth, account=client.public_key), client)
    assert (await post(auth, signed)).status_code == 200
    replay = await post(auth, signed)
    assert replay.status_code == 400 and "already used" in replay.json()["error"]


def forged(server: Keypair, client: str, **changes) -> str:
    values = {
        "client_account": client,
        "home_domain": "testserver",
        "web_auth_domain": "testserver",
        "network_passphrase": PASSPHRASE,
        "timeout": 900,
    }
    values.update(changes)
    return build_challenge(server, **values)


@pytest.mark.parametrize(
    "make",
    [
        lambda c: forged(SIGNING, c.public_key, now=int(time.time()) - 1000),  # expired
        lambda c: forged(
            SIGNING, c.public_key, network_passphrase=Network.PUBLIC_NETWORK_PASSPHRASE
        ),
        lambda c: forged(Keypair.random(), c.public_key),  # not signed by the server
        lambda c: forged(SIGNING, c.public_key, home_domain="evil.example"),
        lambda c: forged(SIGNING, c.public_key, web_auth_domain="evil.example"),
    ],
    ids=[
        "expired",
        "other-network",
        "not-server-signed",
        "foreign-home-domain",
        "foreign-web-auth",
    ],
)
async def test_forged_challenges_are_refused(auth, make) -> None:
    client = Keypair.random()
    xdr = make(client)
    passphrase = Network.PUBLIC_NETWORK_PASSPHRASE if "other" in str(make) else PASSPHRASE
    envelope = TransactionEnvelope.from_xdr(xdr, passphrase)
    envelope.sign(client)
    response = await post(auth, envelope.to_xdr())
    assert response.status_code == 400
    assert response.json()["error"].startswith("invalid challenge")


async def test_signed_by_the_wrong_client_is_refused(auth) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key)
    response = await post(auth, sign(xdr, Keypair.random()))
    assert response.status_code == 400


async def test_extra_operations_and_swapped_sources_are_refused(auth) -> None:
    client = Keypair.random()
    server = Account(SIGNING.public_key, -1)
    builder = TransactionBuilder(server, PASSPHRASE, 100).add_time_bounds(0, 2**40)
    builder.append_manage_data_op(
        "testserver auth", base64.b64encode(b"n" * 48), source=client.public_key
    )
    builder.append_manage_data_op("web_auth_domain", "testserver", source=SIGNING.public_key)
    builder.append_manage_data_op("extra", "x", source=client.public_key)  # not the server
    tx = builder.build()
    tx.sign(SIGNING)
    tx.sign(client)
    response = await post(auth, tx.to_xdr())
    assert response.status_code == 400
    builder = TransactionBuilder(Account(SIGNING.public_key, -1), PASSPHRASE, 100)
    builder.add_time_bounds(0, 2**40)
    builder.append_manage_data_op(
        "testserver auth", base64.b64encode(b"n" * 48), source=client.public_key
    )
    builder.append_manage_data_op("web_auth_domain", "testserver", source=SIGNING.public_key)
    builder.append_payment_op(client.public_key, Asset.native(), "1")
    tx = builder.build()
    tx.sign(SIGNING)
    tx.sign(client)
    assert (await post(auth, tx.to_xdr())).status_code == 400


@pytest.mark.parametrize(
    ("body", "kwargs"),
    [
        ({"transaction": 5}, {}),
        ({"transaction": "not base64 xdr"}, {}),
        ({}, {}),
        (None, {"content": b"{broken", "headers": {"content-type": "application/json"}}),
        (None, {"content": b"transaction=x", "headers": {"content-type": "text/plain"}}),
    ],
)
async def test_malformed_bodies_are_400(auth, body, kwargs) -> None:
    if body is not None:
        response = await auth.post("/auth", json=body)
    else:
        response = await auth.post("/auth", **kwargs)
    assert response.status_code == 400
    assert "error" in response.json()


async def test_shared_account_stays_shared(auth) -> None:
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key, memo="7")
    assert (await post(auth, sign(xdr, client))).status_code == 200
    xdr = await challenge(auth, account=client.public_key)
    response = await post(auth, sign(xdr, client))
    assert response.status_code == 400 and "memo" in response.json()["error"]


async def test_horizon_down_is_503(database_url, engine) -> None:
    app = create_app(
        make_settings(DATABASE_URL=database_url, HORIZON_URI="http://127.0.0.1:9"), engine=engine
    )
    async with client_for(app) as client:
        keypair = Keypair.random()
        xdr = await challenge(client, account=keypair.public_key)
        response = await post(client, sign(xdr, keypair))
    assert response.status_code == 503
    assert "Horizon" in response.json()["error"]
