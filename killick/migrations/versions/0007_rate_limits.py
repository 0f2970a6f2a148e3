"""Rate limits: fixed-window request counters shared by all server processes

Revision ID: 0007_rate_limits
Revises: 0006_sep38
Create Date: 2026-12-01

One row per (endpoint group, client) bucket, upserted by each limited request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_rate_limits"
down_revision = "0006_sep38"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_window",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_no", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limit_window")),
    )
    op.create_index(
        op.f("ix_rate_limit_window_window_no"), "rate_limit_window", ["window_no"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_window_window_no"), table_name="rate_limit_window")
    op.drop_table("rate_limit_window")
