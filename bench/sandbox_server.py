"""``python -m bench.sandbox_server PORT LEDGER_SECONDS``: the sandbox network the bench
talks to, as ``killick sandbox`` serves it but without an access log line per request
(the backlog scenario makes tens of thousands of them)."""

from __future__ import annotations

import sys

import uvicorn
from stellar_sdk import Network

from killick.sandbox import SandboxNetwork, create_sandbox_app


def main() -> None:
    port, ledger_seconds = int(sys.argv[1]), float(sys.argv[2])
    network = SandboxNetwork(Network.TESTNET_NETWORK_PASSPHRASE, ledger_seconds)
    uvicorn.run(
        create_sandbox_app(network),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )


if __name__ == "__main__":
    main()
