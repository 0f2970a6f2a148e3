"""SEP-1 stellar.toml (v2.7.0): ``GET /.well-known/stellar.toml``.

Generated from settings and assets, merged with the anchor's ``toml`` hook, rendered
once per configuration version and served from memory.
"""

from killick.sep1.routes import router
from killick.sep1.toml import build_toml

__all__ = ["build_toml", "router"]
