"""SEP-12 rules without the app: SEP-9 fields, identity from the token, hook answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from stellar_sdk import Keypair, MuxedAccount

from killick.errors import APIError
from killick.sep10.token import SEP10Token
from killick.sep12.answers import HookMistake, customer_body, file_object
from killick.sep12.fields import SEP9_FIELDS, FieldError, field_catalog
from killick.sep12.identity import resolve
from killick.settings import ConfigError, load_settings
from tests.helpers import JWT_KEY, SIGNING

CATALOG = field_catalog()


def token(account=None, memo=None, muxed=None) -> SEP10Token:
    return SEP10Token.issue(
        account=account or Keypair.random().public_key,
        memo=memo,
        muxed_account=muxed,
        issuer="http://testserver/auth",
        lifetime=timedelta(hours=1),
    )


# -- SEP-9 fields -------------------------------------------------------------------------


def test_the_catalogue_has_sep9_1_18_with_prefixes() -> None:
    for name in ("mobile_money_provider", "bank_name", "organization.bank_name", "card.token"):
        assert SEP9_FIELDS[name] == "string"
    assert SEP9_FIELDS["organization.photo_proof_address"] == "binary"
    assert SEP9_FIELDS["occupation"] == "number"
    assert SEP9_FIELDS["organization.registration_date"] == "string"  # SEP-9 says string


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("birth_date", "2000-02-29", True),
        ("birth_date", "2001-02-29", False),
        ("birth_date", "2000-2-9", False),
        ("birth_date", "20000229", False),
        ("id_expiration_date", "2030-01-01T00:00:00", False),
        ("card.expiration_date", "29-11", True),
        ("card.expiration_date", "29-13", False),
        ("occupation", "2512", True),
        ("occupation", "25.5", True),
        ("occupation", "NaN", False),
        ("organization.number_of_shareholders", "three", False),
        ("mobile_number_verification", "123", True),
        ("mobile_number_verification", " ", False),
        ("nickname_verification", "1", False),
        ("photo_id_back_file_id", "file_1", True),
        ("tax_id_file_id", "file_1", False),
        ("organization.name", "ACME", True),
        ("organisation.name", "ACME", False),
    ],
)
def test_text_values(name: str, value: str, ok: bool) -> None:
    if ok:
        assert CATALOG.check({name: value}, {})[name] == value
    else:
        with pytest.raises(FieldError, match=name.replace(".", r"\.")) as caught:
            CATALOG.check({name: value}, {})
        assert value.strip() == "" or value not in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FieldError) as caught:
        CATALOG.check({"birth_date": "x", "occupation": "y", "shoe": "z"}, {})
    assert str(caught.value).count(";") == 2


def test_extra_fields_come_from_settings() -> None:
    settings = load_settings(
        SIGNING_SEED=SIGNING.secret,
        SERVER_JWT_KEY=JWT_KEY,
        LOCAL_MODE=True,
        SEP12_EXTRA_FIELDS="nickname, loyalty.level:number,selfie:binary",
        _env_file=None,
    )
    assert settings.SEP12_EXTRA_FIELDS == (
        ("nickname", "string"),
        ("loyalty.level", "number"),
        ("selfie", "binary"),
    )
    catalog = field_catalog(settings.SEP12_EXTRA_FIELDS)
    assert catalog.check({"nickname": "Ada", "loyalty.level": "3"}, {})["nickname"] == "Ada"
    assert catalog is field_catalog(settings.SEP12_EXTRA_FIELDS)  # built once


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SEP12_EXTRA_FIELDS": "shoe size"}, "SEP12_EXTRA_FIELDS"),
        ({"SEP12_EXTRA_FIELDS": "shoe:text"}, "SEP12_EXTRA_FIELDS"),
        ({"SEP12_MAX_UPLOAD_BYTES": 10}, "SEP12_MAX_UPLOAD_BYTES"),
        ({"SEP12_MAX_BODY_BYTES": 4096, "SEP12_MAX_UPLOAD_BYTES": 8192}, "SEP12_MAX_BODY_BYTES"),
    ],
)
def test_wrong_sep12_settings_stop_start_up(overrides, named) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(
            SIGNING_SEED=SIGNING.secret,
            SERVER_JWT_KEY=JWT_KEY,
            LOCAL_MODE=True,
            _env_file=None,
            **overrides,
        )


# -- identity -------------------------------------------------------------------------------


def test_identity_follows_the_token() -> None:
    plain = token()
    assert resolve(plain, {}).principal == plain.account
    assert resolve(plain, {"memo": "007"}).principal == f"{plain.account}:7"
    hashed = "A" * 43 + "="
    assert resolve(plain, {"memo": hashed, "memo_type": "hash"}).memo == hashed
    shared = token(memo="12")
    assert resolve(shared, {"memo": "12", "memo_type": "text"}).principal == shared.principal
    big = 2**64 - 1
    muxed = token(muxed=MuxedAccount(Keypair.random().public_key, big).account_muxed)
    identity = resolve(muxed, {"memo": str(big), "account": muxed.muxed_account})
    assert (identity.principal, identity.memo) == (muxed.muxed_account, str(big))
    assert resolve(muxed, {"account": muxed.account}).account == muxed.muxed_account


def test_ownership_of_memo_sub_users() -> None:
    plain = token()
    whole = resolve(plain, {})
    assert whole.owns(plain.account) and whole.owns(f"{plain.account}:5")
    assert not whole.owns(f"{plain.account}X:5")
    labelled = resolve(plain, {"memo": "5"})
    assert labelled.owns(f"{plain.account}:5") and not labelled.owns(plain.account)


@pytest.mark.parametrize("params", [{"memo": "13"}, {"memo": "x", "memo_type": "text"}])
def test_a_memo_other_than_the_tokens_is_400(params) -> None:
    with pytest.raises(APIError) as caught:
        resolve(token(memo="12"), params)
    assert caught.value.status_code == 400


# -- hook answers -----------------------------------------------------------------------------


def test_a_verification_only_needs_info_gets_an_empty_fields_object() -> None:
    body = customer_body(
        {
            "id": "c1",
            "status": "NEEDS_INFO",
            "provided_fields": {
                "mobile_number": {
                    "type": "string",
                    "description": "phone",
                    "status": "VERIFICATION_REQUIRED",
                }
            },
        },
        CATALOG,
    )
    assert body["fields"] == {}


def test_an_answer_for_another_id_is_a_mistake() -> None:
    with pytest.raises(HookMistake):
        customer_body({"id": "c2", "status": "ACCEPTED"}, CATALOG, expected_id="c1")


def test_accepted_may_list_optional_fields_and_rejected_keeps_its_message() -> None:
    optional = {"email_address": {"type": "string", "description": "mail", "optional": True}}
    assert customer_body({"status": "ACCEPTED", "fields": optional}, CATALOG)["fields"]
    rejected = customer_body({"id": "c", "status": "REJECTED", "message": "sanctions"}, CATALOG)
    assert rejected == {"id": "c", "status": "REJECTED", "message": "sanctions"}


def test_file_objects() -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    clean = file_object(
        {"file_id": "f", "content_type": "image/png", "size": 3, "expires_at": expires, "x": 1}
    )
    assert clean == {
        "file_id": "f",
        "content_type": "image/png",
        "size": 3,
        "expires_at": "2030-01-02T03:04:05Z",
        "customer_id": None,
    }
    for wrong in ({"file_id": "f", "content_type": "a", "size": True}, {"file_id": ""}):
        with pytest.raises(HookMistake):
            file_object(wrong)
