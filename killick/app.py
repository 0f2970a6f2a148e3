"""``create_app()``: the FastAPI application with the active SEPs mounted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

import killick
from killick.context import Context
from killick.cors import AllowAnyOrigin
from killick.endpoints import MOUNTS
from killick.errors import install_error_handlers
from killick.integrations import load_integrations
from killick.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    """Build the app. Loads the anchor's INTEGRATIONS module, so its mistakes stop start-up."""
    settings = settings or load_settings()
    load_integrations(settings.INTEGRATIONS)
    context = Context.build(settings, engine)
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_engine:
            await context.engine.dispose()

    app = FastAPI(
        title="Killick",
        version=killick.__version__,
        description="A Stellar anchor server: SEP-1, SEP-10, SEP-6, SEP-12, SEP-38.",
        lifespan=lifespan,
    )
    app.state.killick = context
    install_error_handlers(app)
    # Wallets call anchors from browsers: every SEP answer, errors included, allows it.
    app.add_middleware(AllowAnyOrigin)
    if settings.sep_active("sep-1"):
        from killick.sep1 import router as sep1_router

        app.include_router(sep1_router)
    if settings.sep_active("sep-6"):
        from killick.sep6 import router as sep6_router

        app.include_router(sep6_router, prefix=MOUNTS["sep-6"][0])
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each server worker process builds its own app)."""
    return create_app()
