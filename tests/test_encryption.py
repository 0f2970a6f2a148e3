"""Seeds at rest: encrypted, decryptable after key rotation, never in a repr."""

from __future__ import annotations

import pytest
from stellar_sdk import Keypair

from killick.encryption import DecryptionError, SeedCipher
from killick.models import Asset

OLD = "old-key-" + "a" * 40
NEW = "new-key-" + "b" * 40


def test_round_trip_and_not_plaintext() -> None:
    seed = Keypair.random().secret
    token = SeedCipher([OLD]).encrypt(seed)
    assert seed not in token
    assert SeedCipher([OLD]).decrypt(token) == seed


def test_rotation_keeps_old_tokens_readable_then_moves_them() -> None:
    seed = Keypair.random().secret
    old_token = SeedCipher([OLD]).encrypt(seed)
    rotating = SeedCipher([NEW, OLD])
    assert rotating.decrypt(old_token) == seed
    new_token = rotating.rotate(old_token)
    assert SeedCipher([NEW]).decrypt(new_token) == seed
    with pytest.raises(DecryptionError):
        SeedCipher([NEW]).decrypt(old_token)


def test_asset_repr_never_shows_the_seed() -> None:
    seed = Keypair.random().secret
    asset = Asset(code="USD", issuer=Keypair.random().public_key)
    asset.set_distribution_seed(SeedCipher([OLD]), seed)
    assert seed not in repr(asset)
    assert asset.distribution_seed(SeedCipher([OLD])) == seed
