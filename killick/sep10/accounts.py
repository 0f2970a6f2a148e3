"""What SEP-10 needs to know of a client account on the network: signers and threshold."""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import ServerAsync
from stellar_sdk.exceptions import BaseRequestError, NotFoundError
from stellar_sdk.sep.ed25519_public_key_signer import Ed25519PublicKeySigner


class HorizonUnavailable(Exception):
    """Horizon could not answer (down, timing out, or erroring)."""


@dataclass(frozen=True)
class AccountSigners:
    signers: list[Ed25519PublicKeySigner]
    medium_threshold: int


async def load_signers(horizon: ServerAsync, account: str) -> AccountSigners | None:
    """The account's ed25519 signers with weight > 0, or None if it does not exist."""
    try:
        record = await horizon.accounts().account_id(account).call()
    except NotFoundError:
        return None
    except BaseRequestError as error:  # ConnectionError, BadResponseError, ...
        raise HorizonUnavailable(str(type(error).__name__)) from None
    signers = [
        Ed25519PublicKeySigner(signer["key"], signer["weight"])
        for signer in record.get("signers", [])
        if signer.get("type") == "ed25519_public_key" and signer.get("weight", 0) > 0
    ]
    return AccountSigners(signers, int(record["thresholds"]["med_threshold"]))
