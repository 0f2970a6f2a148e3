"""Calling the customer integration: its exceptions become SEP-12 answers.

``CustomerNotFound`` is a 404; ``ValueError`` a 400 whose text the anchor wrote for the
wallet; ``NotImplementedError`` a 501 (the anchor does not offer that part). Anything
else is the anchor's bug: logged with the hook's name, exception type and stack frames
(never the exception's message, which may quote KYC values), answered with a bare 500.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from killick.errors import APIError
from killick.integrations import CustomerNotFound, call_hook, registry

log = logging.getLogger("killick.sep12")

MAX_ANCHOR_ERROR = 500
FAILED = "the anchor's KYC service failed to answer; try again later"


def hook_failure(hook: str, problem: str) -> APIError:
    """Log an integration mistake (``problem`` must hold no KYC value); a 500 to answer."""
    log.error("customer integration %s(): %s", hook, problem)
    return APIError(500, FAILED)


async def call_customer_hook(hook: str, *args: Any, not_found: str = "customer not found") -> Any:
    """``registry.customer.<hook>(*args)``, with its exceptions mapped (see module doc)."""
    try:
        return await call_hook(getattr(registry.customer, hook), *args)
    except CustomerNotFound:
        raise APIError(404, not_found) from None
    except NotImplementedError:
        raise APIError(501, f"this anchor does not support this SEP-12 request ({hook})") from None
    except ValueError as error:
        text = str(error).strip() or "the anchor refused these values"
        raise APIError(400, text[:MAX_ANCHOR_ERROR]) from None
    except Exception as error:  # the anchor's bug; keep its message (maybe KYC) out of logs
        frames = "".join(traceback.format_tb(error.__traceback__))
        raise hook_failure(hook, f"raised {type(error).__name__}\n{frames}") from None
