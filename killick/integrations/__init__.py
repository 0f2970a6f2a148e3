"""The integration API: the classes and functions an anchor writes to plug into Killick.

    from killick.integrations import DepositIntegration, register_integrations

Shaped like django-polaris' integrations so its anchors port with import changes only.
"""

from killick.integrations.base import (
    CustomerIntegration,
    CustomerNotFound,
    DepositIntegration,
    QuoteIntegration,
    RailsIntegration,
    WithdrawalIntegration,
)
from killick.integrations.calls import call_hook, inline
from killick.integrations.defaults import default_fee, default_info, default_toml
from killick.integrations.registry import (
    IntegrationImportError,
    Integrations,
    load_integrations,
    register_integrations,
    registry,
    reset_integrations,
)

__all__ = [
    "CustomerIntegration",
    "CustomerNotFound",
    "DepositIntegration",
    "IntegrationImportError",
    "Integrations",
    "QuoteIntegration",
    "RailsIntegration",
    "WithdrawalIntegration",
    "call_hook",
    "default_fee",
    "default_info",
    "default_toml",
    "inline",
    "load_integrations",
    "register_integrations",
    "registry",
    "reset_integrations",
]
