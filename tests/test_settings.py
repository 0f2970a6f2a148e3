"""Settings: wrong values stop start-up with the variable named, never its value."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from stellar_sdk import Keypair

from killick.settings import ConfigError, load_settings
from tests.helpers import JWT_KEY, make_settings


def test_defaults_follow_the_sep6_guide() -> None:
    settings = make_settings()
    assert settings.ACTIVE_SEPS == ("sep-1", "sep-10", "sep-6", "sep-12")
    assert settings.STELLAR_NETWORK_PASSPHRASE == "Test SDF Network ; September 2015"
    assert settings.signing_keypair.public_key.startswith("G")
    assert settings.host == "testserver"


def test_active_seps_is_a_comma_list() -> None:
    settings = make_settings(ACTIVE_SEPS="sep-1, SEP-10,sep-6")
    assert settings.ACTIVE_SEPS == ("sep-1", "sep-10", "sep-6")
    assert not settings.sep_active("sep-12")


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"SIGNING_SEED": "nonsense"}, "SIGNING_SEED"),
        ({"SERVER_JWT_KEY": "short"}, "SERVER_JWT_KEY"),
        ({"ACTIVE_SEPS": "sep-1,sep-99"}, "ACTIVE_SEPS"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"HOST_URL": "not a url"}, "HOST_URL"),
        ({"LOCAL_MODE": False}, "HOST_URL"),
        ({"ENCRYPTION_KEYS": "tooshort"}, "ENCRYPTION_KEYS"),
    ],
)
def test_a_wrong_value_names_its_variable(overrides: dict[str, object], variable: str) -> None:
    values = {
        "SIGNING_SEED": Keypair.random().secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "HOST_URL": "http://localhost:8000",
        "HORIZON_URI": "http://127.0.0.1:8001",
        "LOCAL_MODE": True,
        **overrides,
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, **values)
    assert str(caught.value).startswith(f"{variable}:")


def test_https_is_required_outside_local_mode() -> None:
    settings = make_settings(
        LOCAL_MODE=False, HOST_URL="https://anchor.example", HORIZON_URI="https://h.example"
    )
    assert settings.HOST_URL == "https://anchor.example"


def test_config_check_names_a_bad_seed_without_echoing_it(tmp_path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SIGNING_SEED": "nonsense-secret-value",
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "killick", "config", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SIGNING_SEED" in result.stderr
    assert "nonsense-secret-value" not in result.stderr + result.stdout
    assert JWT_KEY not in result.stderr + result.stdout


def test_config_check_passes_on_valid_settings(tmp_path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SIGNING_SEED": Keypair.random().secret,
        "SERVER_JWT_KEY": JWT_KEY,
        "LOCAL_MODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "killick", "config", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration is valid" in result.stdout
