"""SEP-12: customer ownership, last known customer status, callback URLs, file ids

Revision ID: 0004_sep12
Revises: 0003_workers
Create Date: 2026-11-26

Killick keeps no KYC values: only which principal owns each customer id and file id the
customer integration issued, the last status it reported per type, and the wallet's
callback URL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_sep12"
down_revision = "0003_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kyc_callback",
        sa.Column("principal", sa.String(length=140), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", name=op.f("pk_kyc_callback")),
    )
    op.create_table(
        "kyc_customer",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("principal", sa.String(length=140), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_customer")),
    )
    with op.batch_alter_table("kyc_customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kyc_customer_principal"), ["principal"], unique=False)

    op.create_table(
        "kyc_file",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("principal", sa.String(length=140), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_file")),
    )
    with op.batch_alter_table("kyc_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kyc_file_principal"), ["principal"], unique=False)

    op.create_table(
        "kyc_customer_status",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["kyc_customer.id"],
            name=op.f("fk_kyc_customer_status_customer_id_kyc_customer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "type", name=op.f("pk_kyc_customer_status")),
    )


def downgrade() -> None:
    op.drop_table("kyc_customer_status")
    with op.batch_alter_table("kyc_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyc_file_principal"))

    op.drop_table("kyc_file")
    with op.batch_alter_table("kyc_customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyc_customer_principal"))

    op.drop_table("kyc_customer")
    op.drop_table("kyc_callback")
