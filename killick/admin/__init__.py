"""The admin view at ``/admin``: transactions, assets, unmatched payments, customers.

Off unless ``ADMIN_PASSWORD`` is set. Server-rendered HTML without scripts; login with
the password (a signed, HttpOnly, SameSite=Strict session cookie), a CSRF token in every
form. Status changes go through ``killick.operator`` (the rule the CLI shares) and asset
changes through ``killick.assets``. See docs/operations.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from killick.admin import asset_pages, other_pages, transaction_pages
from killick.admin.auth import AdminAuth
from killick.admin.common import router
from killick.settings import Settings

# The page modules register their routes on ``router`` when imported.
_PAGES = (asset_pages, other_pages, transaction_pages)


def mount_admin(app: FastAPI, settings: Settings) -> None:
    app.state.admin_auth = AdminAuth(settings)
    app.include_router(router)


__all__ = ["mount_admin"]
