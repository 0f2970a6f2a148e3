"""What ``INTEGRATIONS=examples.reference_anchor.integrations`` imports."""

from killick.integrations import register_integrations

from .anchor_info import return_toml_contents, sep6_info
from .bank_api import router as bank_router
from .customers import ReferenceCustomers
from .deposit import AnchorDeposit
from .quotes import ReferenceQuotes
from .rails import SimulatedBank
from .withdraw import AnchorWithdraw

register_integrations(
    toml=return_toml_contents,
    sep6_info=sep6_info,
    deposit=AnchorDeposit(),
    withdraw=AnchorWithdraw(),
    customer=ReferenceCustomers(),
    rails=SimulatedBank(),
    quote=ReferenceQuotes(),
    routers=[bank_router],
)
