"""SEP-12 KYC API (v1.15.0): ``/customer`` and ``/customer/files``, mounted at KYC_SERVER.

Killick parses the three request encodings, checks SEP-9 field names and types, decides
from the SEP-10 token whose customer is addressed (and enforces that a wallet reaches
only its own customers and files), and delegates storage and decisions to the anchor's
``CustomerIntegration``, whose answers it checks. Customer status changes go to the
outbox (``Event(kind="customer_status")``) for the wallet's callback URL; a customer
becoming ACCEPTED runs ``ACCEPTED_LISTENERS`` (SEP-6 resumes its waiting transactions).
"""

from fastapi import APIRouter

from killick.sep12.bodies import UploadedFile
from killick.sep12.files import router as _files_router
from killick.sep12.routes import router as _customer_router
from killick.sep12.status import ACCEPTED_LISTENERS, on_customer_accepted, record_status

router = APIRouter()
router.include_router(_customer_router)
router.include_router(_files_router)

__all__ = [
    "ACCEPTED_LISTENERS",
    "UploadedFile",
    "on_customer_accepted",
    "record_status",
    "router",
]
