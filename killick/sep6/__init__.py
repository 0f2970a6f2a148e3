"""SEP-6 Deposit and Withdrawal API (v4.3.0), mounted at stellar.toml's TRANSFER_SERVER.

``GET /info``, ``GET /fee``, ``GET``/``POST /deposit`` and ``/withdraw``,
``GET /transactions``, ``GET /transaction`` and ``PATCH /transactions/{id}``. The
anchor's ``DepositIntegration`` and ``WithdrawalIntegration`` hooks decide what wallets
are told; Killick validates requests, keeps the transactions and their statuses, and
answers in the spec's shapes. See docs/sep6.md.
"""

from killick.sep6.directions import DEPOSIT, WITHDRAW, Direction
from killick.sep6.hook_answers import HookAnswerError, read_answer
from killick.sep6.params import TransferRequest, parse_transfer
from killick.sep6.routes import router
from killick.sep6.transfer import start_transfer

__all__ = [
    "DEPOSIT",
    "WITHDRAW",
    "Direction",
    "HookAnswerError",
    "TransferRequest",
    "parse_transfer",
    "read_answer",
    "router",
    "start_transfer",
]
