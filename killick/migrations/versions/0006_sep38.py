"""SEP-38: off-chain assets, exchange pairs and firm quotes

Revision ID: 0006_sep38
Revises: 0005_callbacks
Create Date: 2026-11-26

Off-chain assets and the pairs the anchor trades are configuration (changed by the CLI,
bumping the configuration version); quotes are rows the wallets create with POST /quote.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_sep38"
down_revision = "0005_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_pair",
        sa.Column("sell_asset", sa.String(length=128), nullable=False),
        sa.Column("buy_asset", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sell_asset", "buy_asset", name=op.f("pk_exchange_pair")),
    )
    op.create_table(
        "offchain_asset",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("country_codes", sa.JSON(), nullable=False),
        sa.Column("sell_delivery_methods", sa.JSON(), nullable=False),
        sa.Column("buy_delivery_methods", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offchain_asset")),
    )
    op.create_table(
        "sep38_quote",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("principal", sa.String(length=140), nullable=False),
        sa.Column("client_domain", sa.String(length=255), nullable=True),
        sa.Column("context", sa.String(length=8), nullable=False),
        sa.Column("sell_asset", sa.String(length=128), nullable=False),
        sa.Column("buy_asset", sa.String(length=128), nullable=False),
        sa.Column("sell_amount", sa.BigInteger(), nullable=True),
        sa.Column("buy_amount", sa.BigInteger(), nullable=True),
        sa.Column("sell_decimals", sa.Integer(), nullable=False),
        sa.Column("buy_decimals", sa.Integer(), nullable=False),
        sa.Column("price", sa.String(length=64), nullable=True),
        sa.Column("total_price", sa.String(length=64), nullable=True),
        sa.Column("fee", sa.JSON(), nullable=True),
        sa.Column("sell_delivery_method", sa.String(length=64), nullable=True),
        sa.Column("buy_delivery_method", sa.String(length=64), nullable=True),
        sa.Column("country_code", sa.String(length=16), nullable=True),
        sa.Column("requested_expire_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sep38_quote")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_sep38_quote_transaction_id")),
    )


def downgrade() -> None:
    op.drop_table("sep38_quote")
    op.drop_table("offchain_asset")
    op.drop_table("exchange_pair")
