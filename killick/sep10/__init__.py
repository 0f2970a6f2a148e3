"""SEP-10 Stellar Web Authentication (v3.4.1), with SEP-23 muxed accounts (v1.3.0).

``GET /auth`` builds a challenge; ``POST /auth`` verifies the signed challenge and
answers a session JWT. Other SEPs take the caller's identity from the dependencies
here (``sep6_token``, ``sep12_token``, ``sep38_token``), each failing the way its SEP
says.
"""

from killick.sep10.auth import (
    optional_token,
    require_token,
    sep6_token,
    sep12_token,
    sep38_optional_token,
    sep38_token,
)
from killick.sep10.token import InvalidToken, SEP10Token

__all__ = [
    "InvalidToken",
    "SEP10Token",
    "optional_token",
    "require_token",
    "sep6_token",
    "sep12_token",
    "sep38_optional_token",
    "sep38_token",
]
