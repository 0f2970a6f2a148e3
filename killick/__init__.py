"""Killick: a Stellar anchor server (SEP-1, SEP-10, SEP-6, SEP-12, SEP-38) with its workers."""

__version__ = "0.1.0"
