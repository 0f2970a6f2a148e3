"""Small HTML helpers for the admin pages: every value goes through ``html.escape``."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from starlette.responses import HTMLResponse

# No scripts at all; inline styles only; forms post to this origin only.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{background:#1d3557;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff}header form{margin-left:auto}main{padding:16px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f1f1f1}
.error{background:#fde2e2;border:1px solid #e08;padding:8px}
.note{background:#e2f5e9;border:1px solid #2a7;padding:8px}
form.inline{display:inline}label{margin-right:8px}code{font-size:12px}
"""


def e(value: Any) -> str:
    """Escaped text; ``-`` for None."""
    return "-" if value is None else escape(str(value), quote=True)


def page(title: str, body: str, *, csrf: str | None = None, status_code: int = 200) -> HTMLResponse:
    nav = ""
    if csrf is not None:
        nav = (
            '<a href="/admin/transactions">Transactions</a><a href="/admin/assets">Assets</a>'
            '<a href="/admin/unmatched">Unmatched payments</a>'
            '<a href="/admin/customers">Customers</a>'
            '<form method="post" action="/admin/logout">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}">'
            '<button type="submit">Log out</button></form>'
        )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)} · Killick admin</title><style>{STYLE}</style></head><body>"
        f"<header><strong>Killick admin</strong>{nav}</header>"
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=HEADERS)


def table(headings: Iterable[str], rows: Iterable[Iterable[str]], *, table_id: str = "") -> str:
    """``rows`` cells are HTML already (escape values with ``e``)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    ident = f' id="{e(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def message(text: str | None, kind: str = "error") -> str:
    return f'<p class="{kind}" role="status">{e(text)}</p>' if text else ""


def field(label: str, name: str, value: Any = None, *, kind: str = "text", extra: str = "") -> str:
    shown = "" if value is None else e(value)
    return (
        f'<label>{e(label)} <input type="{kind}" name="{e(name)}" value="{shown}"{extra}></label>'
    )


def select(label: str, name: str, options: Iterable[str], chosen: str | None = None) -> str:
    items = "".join(
        f'<option value="{e(o)}"{" selected" if o == chosen else ""}>{e(o or "any")}</option>'
        for o in options
    )
    return f'<label>{e(label)} <select name="{e(name)}">{items}</select></label>'


def hidden_csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(token)}">'
