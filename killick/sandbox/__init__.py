"""A local Horizon-compatible Stellar network for development and tests.

Killick talks to it only over HTTP through stellar-sdk, exactly as it talks to Horizon.
"""

from .app import create_sandbox_app
from .faults import Faults
from .network import SandboxNetwork
from .problems import HorizonProblem
from .runner import RunningSandbox, running_sandbox

__all__ = [
    "Faults",
    "HorizonProblem",
    "RunningSandbox",
    "SandboxNetwork",
    "create_sandbox_app",
    "running_sandbox",
]
