"""The stellar.toml route."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from killick.context import Context
from killick.integrations import call_hook, registry
from killick.sep1.toml import build_toml

router = APIRouter(tags=["SEP-1"])


@router.get(
    "/.well-known/stellar.toml",
    response_class=PlainTextResponse,
    summary="stellar.toml (SEP-1)",
)
async def stellar_toml(request: Request) -> PlainTextResponse:
    context: Context = request.app.state.killick
    snapshot = await context.catalog.current()

    async def render() -> str:
        hook = await call_hook(registry.toml)
        return build_toml(context.settings, snapshot.assets, hook)

    text = await snapshot.derived("stellar.toml", render)
    return PlainTextResponse(text, media_type="text/plain")
