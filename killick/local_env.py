"""The local ``.env`` that ``killick dev`` (the README's first command) writes once.

It holds fresh random secrets and the local defaults (LOCAL_MODE=1, SQLite, the sandbox
network's Horizon), so a newcomer runs Killick with no hand-written configuration, while
``killick serve`` itself still refuses to start without valid settings.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from stellar_sdk import Keypair


def local_env_text(sandbox_port: int = 8001, port: int = 8000) -> str:
    lines = [
        "# Written by `killick dev` for local development. Never use these in production.",
        "ACTIVE_SEPS=sep-1,sep-10,sep-6,sep-12,sep-38",
        f"HOST_URL=http://localhost:{port}",
        "LOCAL_MODE=1",
        "ENABLE_SEP_0023=1",
        f"SIGNING_SEED={Keypair.random().secret}",
        f"SERVER_JWT_KEY={secrets.token_urlsafe(48)}",
        f"ENCRYPTION_KEYS={secrets.token_urlsafe(48)}",
        "DATABASE_URL=sqlite:///killick.db",
        f"HORIZON_URI=http://127.0.0.1:{sandbox_port}",
        "WORKER_POLL_SECONDS=0.5",
        "RAILS_POLL_SECONDS=1",
    ]
    if Path("examples/reference_anchor").is_dir():
        lines.append("INTEGRATIONS=examples.reference_anchor.integrations")
    return "\n".join([*lines, ""])


def ensure_local_env(path: Path, *, sandbox_port: int = 8001, port: int = 8000) -> bool:
    """Write ``path`` unless it exists; True when it was written. Readable by the owner only."""
    if path.exists():
        return False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(local_env_text(sandbox_port, port))
    return True
