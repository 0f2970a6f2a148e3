"""What every admin page needs: the router, the signed-in operator, the checked form."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from killick.admin.auth import AdminAuth, AdminSession
from killick.admin.html import page
from killick.context import Context

router = APIRouter(prefix="/admin", include_in_schema=False)


def admin_auth(request: Request) -> AdminAuth:
    return request.app.state.admin_auth


def context(request: Request) -> Context:
    return request.app.state.killick


def signed_in(request: Request) -> AdminSession | Response:
    """The operator's session, or a redirect to the login page."""
    session = admin_auth(request).current(request)
    if session is None:
        return RedirectResponse("/admin/login", status_code=303)
    return session


async def checked_form(request: Request, session: AdminSession) -> dict[str, Any] | Response:
    """The POSTed form if its CSRF token is this session's; else a 403 page."""
    form = await request.form()
    values = {key: form.get(key) for key in form}
    if not admin_auth(request).csrf_ok(session, values.get("csrf")):
        return page(
            "Refused",
            "<p>The form's security token is missing or stale. Go back, reload the page and "
            "try again.</p>",
            status_code=403,
        )
    return values
