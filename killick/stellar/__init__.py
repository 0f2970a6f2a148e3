"""Killick's Stellar plumbing: the HTTP client for stellar-sdk and asset issuance."""

from .horizon_client import HttpxAsyncClient
from .issue_asset import IssuedAsset, issue_asset

__all__ = ["HttpxAsyncClient", "IssuedAsset", "issue_asset"]
