"""No secret in error answers. (No secret in the logs of a whole deposit and withdrawal:
tests/test_e2e_demo.py, which runs that flow once per database with every logger at
DEBUG.)"""

from __future__ import annotations

import logging
import re

from killick.demo import SAMPLE_KYC
from tests.helpers import JWT_KEY, SIGNING, bearer

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _found(text: str, secrets: set[str]) -> list[str]:
    found = [secret[:6] + "..." for secret in secrets if secret in text]
    if JWT.search(text):
        found.append("a JWT")
    return found


async def test_no_secret_in_error_answers(client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    token = bearer()
    kyc = {"last_name": SAMPLE_KYC["last_name"], "email_address": SAMPLE_KYC["email_address"]}
    answers = [
        await client.get("/sep6/transaction", params={"id": "x"}, headers=token),
        await client.get("/sep6/deposit", params={"asset_code": "NOPE"}, headers=token),
        await client.get("/sep6/transactions", params={"asset_code": "X"}),
        await client.patch("/sep6/transactions/x", json={"transaction": kyc}, headers=token),
        await client.post("/auth", json={"transaction": SIGNING.secret}),
        await client.get("/auth", params={"account": SIGNING.secret}),
        await client.put("/kyc/customer", json=kyc, headers={"Authorization": "Bearer " + JWT_KEY}),
        await client.put("/kyc/customer", json={**kyc, "id": 5}, headers=token),
        await client.get("/sep38/quote/x", headers=token),
        await client.post("/sep38/quote", json={"sell_asset": SIGNING.secret}, headers=token),
    ]
    secrets = {SIGNING.secret, JWT_KEY, token["Authorization"][7:], *kyc.values()}
    for response in answers:
        assert response.status_code >= 400, response.text
        assert not _found(response.text, secrets), (response.request.url, response.text)
    assert not _found(caplog.text, secrets - {SIGNING.secret}), caplog.text
