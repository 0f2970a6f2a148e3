"""SEP-9 field names (content of v1.18) and the checks on what a wallet sends for them.

Names are flat keys (``organization.name`` is one key, CHECKLIST S9-01). ``first_name`` /
``given_name`` and ``last_name`` / ``family_name`` are synonyms (S9-03): the integration
receives the value under both names, so it may read either. ``<field>_verification``
carries a confirmation code (S12-17) and ``<binary field>_file_id`` a file uploaded with
``POST /customer/files``. Errors name fields, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from typing import Any

STRING, BINARY, NUMBER, DATE = "string", "binary", "number", "date"
FIELD_TYPES = (STRING, BINARY, NUMBER, DATE)
VERIFICATION_SUFFIX = "_verification"
FILE_ID_SUFFIX = "_file_id"

_PERSON = {
    "family_name": STRING,
    "last_name": STRING,
    "given_name": STRING,
    "first_name": STRING,
    "additional_name": STRING,
    "address_country_code": STRING,
    "state_or_province": STRING,
    "city": STRING,
    "postal_code": STRING,
    "address": STRING,
    "mobile_number": STRING,
    "mobile_number_format": STRING,
    "email_address": STRING,
    "birth_date": DATE,
    "birth_place": STRING,
    "birth_country_code": STRING,
    "tax_id": STRING,
    "tax_id_name": STRING,
    "occupation": NUMBER,
    "employer_name": STRING,
    "employer_address": STRING,
    "language_code": STRING,
    "id_type": STRING,
    "id_country_code": STRING,
    "id_issue_date": DATE,
    "id_expiration_date": DATE,
    "id_number": STRING,
    "photo_id_front": BINARY,
    "photo_id_back": BINARY,
    "notary_approval_of_photo_id": BINARY,
    "ip_address": STRING,
    "photo_proof_residence": BINARY,
    "sex": STRING,
    "proof_of_income": BINARY,
    "proof_of_liveness": BINARY,
    "referral_id": STRING,
}
_FINANCIAL = {
    "bank_name": STRING,
    "bank_account_type": STRING,
    "bank_account_number": STRING,
    "bank_number": STRING,
    "bank_phone_number": STRING,
    "bank_branch_number": STRING,
    "external_transfer_memo": STRING,
    "clabe_number": STRING,
    "cbu_number": STRING,
    "cbu_alias": STRING,
    "mobile_money_number": STRING,
    "mobile_money_provider": STRING,
    "crypto_address": STRING,
    "crypto_memo": STRING,
}
_ORGANIZATION = {
    "name": STRING,
    "VAT_number": STRING,
    "registration_number": STRING,
    "registration_date": STRING,
    "registered_address": STRING,
    "number_of_shareholders": NUMBER,
    "shareholder_name": STRING,
    "photo_incorporation_doc": BINARY,
    "photo_proof_address": BINARY,
    "address_country_code": STRING,
    "state_or_province": STRING,
    "city": STRING,
    "postal_code": STRING,
    "director_name": STRING,
    "website": STRING,
    "email": STRING,
    "phone": STRING,
}
_CARD = {
    "number": STRING,
    "expiration_date": DATE,  # YY-MM, not YYYY-MM-DD (S9-06)
    "cvc": STRING,
    "holder_name": STRING,
    "network": STRING,
    "postal_code": STRING,
    "country_code": STRING,
    "state_or_province": STRING,
    "city": STRING,
    "address": STRING,
    "token": STRING,
}

SEP9_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        **_PERSON,
        **_FINANCIAL,
        **{f"organization.{name}": kind for name, kind in _FINANCIAL.items()},
        **{f"organization.{name}": kind for name, kind in _ORGANIZATION.items()},
        **{f"card.{name}": kind for name, kind in _CARD.items()},
    }
)

SYNONYMS: Mapping[str, str] = MappingProxyType(
    {
        "first_name": "given_name",
        "given_name": "first_name",
        "last_name": "family_name",
        "family_name": "last_name",
    }
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CARD_EXPIRY = re.compile(r"\d{2}-(0[1-9]|1[0-2])")
_MAX_NAME_SHOWN = 64


class FieldError(ValueError):
    """What the wallet sent breaks SEP-9 rules; the message names fields, not values."""


def shown(name: str) -> str:
    """A field name as it may appear in an error (quoted, cut short)."""
    return repr(name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "...")


def _valid_date(name: str, value: str) -> bool:
    if name == "card.expiration_date":
        return _CARD_EXPIRY.fullmatch(value) is not None
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _valid_number(value: str) -> bool:
    try:
        return Decimal(value.strip()).is_finite()
    except InvalidOperation:
        return False


@dataclass(frozen=True)
class FieldCatalog:
    """The field names Killick accepts: SEP-9 plus the anchor's ``SEP12_EXTRA_FIELDS``."""

    types: Mapping[str, str]

    def knows(self, name: str) -> bool:
        return name in self.types

    def check(self, text: Mapping[str, str], files: Mapping[str, Any]) -> dict[str, Any]:
        """The customer fields for the integration, or FieldError listing every problem.

        ``text`` holds the text values, ``files`` the uploaded files, both by field name.
        """
        problems = [p for name, value in text.items() if (p := self._problem(name, value))]
        for name, upload in files.items():
            if name in text:
                problems.append(f"{shown(name)} was sent twice (as text and as a file)")
            elif self.types.get(name) != BINARY:
                problems.append(
                    f"{shown(name)} is not a binary field; only binary SEP-9 fields "
                    "may be sent as files"
                )
            elif not getattr(upload, "size", 1):
                problems.append(f"{shown(name)}: the file is empty")
        fields: dict[str, Any] = {**text, **files}
        for name, synonym in SYNONYMS.items():
            if name in fields and synonym in fields and fields[name] != fields[synonym]:
                problems.append(
                    f"{shown(name)} and {shown(synonym)} are the same SEP-9 field; send one"
                )
        if problems:
            raise FieldError("; ".join(dict.fromkeys(problems)))
        for name, synonym in SYNONYMS.items():
            if name in fields and synonym not in fields:
                fields[synonym] = fields[name]
        return fields

    def _problem(self, name: str, value: str) -> str | None:
        kind = self.types.get(name)
        if kind is None:
            return self._suffix_problem(name, value)
        if kind == BINARY:
            return (
                f"{shown(name)} is a binary field: send it as a file part in "
                f"multipart/form-data, or upload it to /customer/files and send "
                f"{shown(name + FILE_ID_SUFFIX)}"
            )
        if kind == NUMBER and not _valid_number(value):
            return f"{shown(name)} must be a number"
        if kind == DATE and not _valid_date(name, value):
            form = "YY-MM" if name == "card.expiration_date" else "YYYY-MM-DD"
            return f"{shown(name)} must be a date in the form {form}"
        return None

    def _suffix_problem(self, name: str, value: str) -> str | None:
        if name.endswith(VERIFICATION_SUFFIX):
            base = name.removesuffix(VERIFICATION_SUFFIX)
            if base not in self.types:
                return f"{shown(name)} verifies {shown(base)}, which is not a known field"
            return None if value.strip() else f"{shown(name)} is empty"
        if name.endswith(FILE_ID_SUFFIX):
            base = name.removesuffix(FILE_ID_SUFFIX)
            if self.types.get(base) != BINARY:
                return f"{shown(name)} names a file, but {shown(base)} is not a binary field"
            return None if value.strip() else f"{shown(name)} is empty"
        return (
            f"unknown field {shown(name)}: not a SEP-9 field nor one this anchor declares "
            "(see GET /customer for the fields it needs)"
        )


@lru_cache(maxsize=8)
def field_catalog(extra: tuple[tuple[str, str], ...] = ()) -> FieldCatalog:
    """The catalogue for the ``SEP12_EXTRA_FIELDS`` setting, built once per value."""
    return FieldCatalog(MappingProxyType({**SEP9_FIELDS, **dict(extra)}))
