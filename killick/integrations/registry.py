"""``register_integrations()``: where an anchor plugs its hooks into Killick."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from killick.integrations.base import (
    CustomerIntegration,
    DepositIntegration,
    QuoteIntegration,
    RailsIntegration,
    WithdrawalIntegration,
)
from killick.integrations.defaults import default_fee, default_info, default_toml


class IntegrationImportError(Exception):
    """The INTEGRATIONS module could not be imported."""


@dataclass
class Integrations:
    """The hooks in force. Defaults stand in for whatever the anchor did not register."""

    toml: Callable[..., Any] = default_toml
    sep6_info: Callable[..., Any] = default_info
    fee: Callable[..., Any] = default_fee
    deposit: DepositIntegration = field(default_factory=DepositIntegration)
    withdrawal: WithdrawalIntegration = field(default_factory=WithdrawalIntegration)
    customer: CustomerIntegration = field(default_factory=CustomerIntegration)
    rails: RailsIntegration = field(default_factory=RailsIntegration)
    quote: QuoteIntegration = field(default_factory=QuoteIntegration)
    routers: tuple[Any, ...] = ()


registry = Integrations()

_INSTANCE_TYPES: dict[str, type] = {
    "deposit": DepositIntegration,
    "withdrawal": WithdrawalIntegration,
    "customer": CustomerIntegration,
    "rails": RailsIntegration,
    "quote": QuoteIntegration,
}


def register_integrations(
    *,
    toml: Callable[..., Any] | None = None,
    sep6_info: Callable[..., Any] | None = None,
    fee: Callable[..., Any] | None = None,
    deposit: DepositIntegration | None = None,
    withdraw: WithdrawalIntegration | None = None,
    withdrawal: WithdrawalIntegration | None = None,
    customer: CustomerIntegration | None = None,
    rails: RailsIntegration | None = None,
    quote: QuoteIntegration | None = None,
    routers: list[Any] | None = None,
) -> None:
    """Register the anchor's hooks. ``withdraw=`` and ``withdrawal=`` are the same hook.

    ``routers`` are FastAPI ``APIRouter``s the anchor serves beside the SEPs (its own
    webhooks, say); Killick mounts them as they are.

    Raises TypeError at once for a wrong type, so a mistake stops start-up rather than
    the first wallet request.
    """
    if withdraw is not None and withdrawal is not None and withdraw is not withdrawal:
        raise TypeError("give withdraw= or withdrawal= (they are the same hook), not both")
    withdrawal = withdrawal or withdraw
    functions = {"toml": toml, "sep6_info": sep6_info, "fee": fee}
    instances = {
        "deposit": deposit,
        "withdrawal": withdrawal,
        "customer": customer,
        "rails": rails,
        "quote": quote,
    }
    for name, func in functions.items():
        if func is not None and not callable(func):
            raise TypeError(f"register_integrations({name}=...) must be a function")
    for name, instance in instances.items():
        expected = _INSTANCE_TYPES[name]
        if instance is not None and not isinstance(instance, expected):
            raise TypeError(
                f"register_integrations({name}=...) must be an instance of "
                f"killick.integrations.{expected.__name__}, not {type(instance).__name__}"
            )
    if routers is not None:
        from fastapi import APIRouter

        if not all(isinstance(router, APIRouter) for router in routers):
            raise TypeError("register_integrations(routers=...) must be a list of APIRouter")
        registry.routers = tuple(routers)
    for name, value in {**functions, **instances}.items():
        if value is not None:
            setattr(registry, name, value)


def reset_integrations() -> None:
    """Back to the defaults (tests; a process that loads another anchor)."""
    defaults = Integrations()
    for name in _INSTANCE_TYPES.keys() | {"toml", "sep6_info", "fee", "routers"}:
        setattr(registry, name, getattr(defaults, name))


def load_integrations(module_name: str | None) -> None:
    """Import the anchor's INTEGRATIONS module, which calls register_integrations()."""
    if not module_name:
        return
    if os.getcwd() not in sys.path:  # the anchor's own package, next to its .env
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(module_name)
    except ImportError as error:
        raise IntegrationImportError(
            f"INTEGRATIONS: cannot import {module_name!r}: {error}"
        ) from None
