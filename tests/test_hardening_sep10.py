"""SEP-10 attacks not covered by tests/test_sep10.py: the first two operations' sources
swapped, and a challenge whose memo was changed after the server signed it."""

from __future__ import annotations

import base64

from stellar_sdk import Account, IdMemo, Keypair, TransactionBuilder, TransactionEnvelope

from tests.helpers import SIGNING
from tests.test_sep10 import PASSPHRASE, auth, challenge, post, sandbox  # noqa: F401


async def test_swapped_operation_sources_are_refused(auth) -> None:  # noqa: F811
    client = Keypair.random()
    builder = TransactionBuilder(Account(SIGNING.public_key, -1), PASSPHRASE, 100)
    builder.add_time_bounds(0, 2**40)
    nonce = base64.b64encode(b"n" * 48)
    builder.append_manage_data_op("testserver auth", nonce, source=SIGNING.public_key)
    builder.append_manage_data_op("web_auth_domain", "testserver", source=client.public_key)
    tx = builder.build()
    tx.sign(SIGNING)
    tx.sign(client)
    response = await post(auth, tx.to_xdr())
    assert response.status_code == 400 and "error" in response.json()


async def test_a_memo_changed_after_signing_is_refused(auth) -> None:  # noqa: F811
    client = Keypair.random()
    xdr = await challenge(auth, account=client.public_key, memo="7")
    envelope = TransactionEnvelope.from_xdr(xdr, PASSPHRASE)
    envelope.transaction.memo = IdMemo(8)  # the server's signature no longer matches
    envelope.sign(client)
    response = await post(auth, envelope.to_xdr())
    assert response.status_code == 400 and "error" in response.json()
