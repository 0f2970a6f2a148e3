"""The killick command: asset management validates and writes nothing on error."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from stellar_sdk import Keypair

from killick.cli import main
from killick.db import create_engine, session_factory
from killick.models import Asset
from tests.helpers import JWT_KEY, SIGNING


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    env = {
        "DATABASE_URL": database_url,
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def assets_in(database_url: str) -> list[Asset]:
    async def load() -> list[Asset]:
        engine = create_engine(database_url)
        async with session_factory(engine)() as session:
            assets = list((await session.scalars(select(Asset))).all())
        await engine.dispose()
        return assets

    return asyncio.run(load())


def test_add_update_list(run, database_url: str) -> None:
    issuer = Keypair.random().public_key
    distribution = Keypair.random()
    result = run(
        "asset",
        "add",
        "USDC",
        "--issuer",
        issuer,
        "--sep6-enabled",
        "--deposit-fee-fixed",
        "1.5",
        "--deposit-max-amount",
        "1000",
        "--distribution-seed",
        distribution.secret,
    )
    assert result.exit_code == 0, result.output
    result = run("asset", "update", "USDC", "--deposit-fee-percent", "0.5", "--no-sep6-enabled")
    assert result.exit_code == 0, result.output
    [asset] = assets_in(database_url)
    assert str(asset.deposit_fee_fixed) == "1.5000000"
    assert str(asset.deposit_fee_percent) == "0.5000000"
    assert asset.sep6_enabled is False
    assert asset.distribution_account == distribution.public_key
    assert distribution.secret not in (asset.distribution_seed_encrypted or "")
    listing = run("asset", "list")
    assert "USDC:" + issuer in listing.output
    assert distribution.secret not in listing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["asset", "add", "USDC", "--issuer", "GBAD"], "issuer"),
        (["asset", "add", "TOO-LONG-CODE-X", "--issuer", Keypair.random().public_key], "code"),
        (
            [
                "asset",
                "add",
                "USDC",
                "--issuer",
                Keypair.random().public_key,
                "--deposit-fee-fixed",
                "-1",
            ],
            "deposit_fee_fixed",
        ),
        (
            [
                "asset",
                "add",
                "USDC",
                "--issuer",
                Keypair.random().public_key,
                "--withdrawal-min-amount",
                "10",
                "--withdrawal-max-amount",
                "5",
            ],
            "withdrawal_min_amount",
        ),
        (
            [
                "asset",
                "add",
                "USDC",
                "--issuer",
                Keypair.random().public_key,
                "--distribution-seed",
                "SNOTASEED",
            ],
            "distribution_seed",
        ),
        (["asset", "update", "NOPE", "--deposit-fee-fixed", "1"], "no asset NOPE"),
    ],
)
def test_bad_arguments_exit_non_zero_and_write_nothing(run, database_url, args, message) -> None:
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert assets_in(database_url) == []


def test_failed_update_keeps_the_stored_values(run, database_url: str) -> None:
    issuer = Keypair.random().public_key
    assert (
        run("asset", "add", "EURT", "--issuer", issuer, "--deposit-max-amount", "100").exit_code
        == 0
    )
    result = run("asset", "update", "EURT", "--deposit-min-amount", "500")
    assert result.exit_code != 0
    [asset] = assets_in(database_url)
    assert asset.deposit_min_amount is None
    assert str(asset.deposit_max_amount) == "100.0000000"


def test_keys_new_prints_a_valid_keypair(run) -> None:
    result = run("keys", "new")
    secret = result.output.split("secret:")[1].strip()
    public = result.output.split("public key:")[1].split()[0]
    assert Keypair.from_secret(secret).public_key == public


def test_reencrypt_moves_seeds_to_the_new_key(run, database_url, monkeypatch) -> None:
    seed = Keypair.random().secret
    assert (
        run(
            "asset",
            "add",
            "USDC",
            "--issuer",
            Keypair.random().public_key,
            "--distribution-seed",
            seed,
        ).exit_code
        == 0
    )
    new_key = "n" * 48
    runner_env = {
        "DATABASE_URL": database_url,
        "SIGNING_SEED": SIGNING.secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
        "ENCRYPTION_KEYS": f"{new_key},{JWT_KEY}",
    }
    result = CliRunner().invoke(main, ["keys", "reencrypt"], env=runner_env)
    assert result.exit_code == 0, result.output
    from killick.encryption import SeedCipher

    [asset] = assets_in(database_url)
    assert asset.distribution_seed(SeedCipher([new_key])) == seed
