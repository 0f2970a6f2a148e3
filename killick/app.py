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
from killick.integrations import load_integrations, registry
from killick.limits import Limits
from killick.openapi_errors import true_error_responses
from killick.settings import Settings, load_settings


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    """Build the app. Loads the anchor's INTEGRATIONS module, so its mistakes stop start-up."""
    settings = settings or load_settings()
    load_integrations(settings.INTEGRATIONS)
    context = Context.build(settings, engine)
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        web_auth = getattr(app.state, "web_auth", None)
        if web_auth is not None:
            await web_auth.client_keys.close()
        await context.close()
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
    # Sizes and rates are refused before routing (inside CORS, so refusals carry it too).
    app.add_middleware(Limits, context=context)
    # Wallets call anchors from browsers: every SEP answer, errors included, allows it.
    app.add_middleware(AllowAnyOrigin)
    _mount_operations(app, settings)
    if settings.sep_active("sep-1"):
        from killick.sep1 import router as sep1_router

        app.include_router(sep1_router)
    if settings.sep_active("sep-10"):
        from killick.sep10.routes import router as sep10_router

        app.include_router(sep10_router, prefix=MOUNTS["sep-10"][0])
    if settings.sep_active("sep-12"):
        from killick.sep12 import router as sep12_router

        app.include_router(sep12_router, prefix=MOUNTS["sep-12"][0])
    if settings.sep_active("sep-6"):
        from killick.sep6 import router as sep6_router

        app.include_router(sep6_router, prefix=MOUNTS["sep-6"][0])
    if settings.sep_active("sep-38"):
        from killick.sep38 import router as sep38_router

        app.include_router(sep38_router, prefix=MOUNTS["sep-38"][0])
    if settings.sep_active("sep-6") and settings.sep_active("sep-12"):
        _resume_sep6_on_kyc(settings)
    for router in registry.routers:
        app.include_router(router)
    true_error_responses(app)
    return app


def _mount_operations(app: FastAPI, settings: Settings) -> None:
    """/health always; /metrics (and its request timing) unless METRICS_ENABLED=0; /admin
    only when ADMIN_PASSWORD is set (docs/operations.md)."""
    from killick.health import router as health_router

    app.include_router(health_router)
    if settings.METRICS_ENABLED:
        from killick.metrics import RequestMetrics
        from killick.metrics import router as metrics_router

        app.include_router(metrics_router)
        app.add_middleware(RequestMetrics)
    if settings.ADMIN_PASSWORD is not None:
        from killick.admin import mount_admin

        mount_admin(app, settings)


def _resume_sep6_on_kyc(settings: Settings) -> None:
    """When SEP-12 accepts a customer, SEP-6 transactions waiting for KYC move on."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from killick.sep6.kyc_resume import resume_after_kyc
    from killick.sep12 import ACCEPTED_LISTENERS

    async def resume_sep6_after_kyc(session: AsyncSession, principal: str) -> None:
        await resume_after_kyc(session, principal, settings=settings)

    ACCEPTED_LISTENERS[:] = [
        listener
        for listener in ACCEPTED_LISTENERS
        if getattr(listener, "__name__", "") != resume_sep6_after_kyc.__name__
    ]
    ACCEPTED_LISTENERS.append(resume_sep6_after_kyc)


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each server worker process builds its own app)."""
    return create_app()
