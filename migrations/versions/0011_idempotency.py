"""hub: API POSTs with an Idempotency-Key keep their first answer for retries

Revision ID: 0011_idempotency
Revises: 0010_conference_cancel
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0011_idempotency'
down_revision = '0010_conference_cancel'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'idempotent_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=80), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('location', sa.String(length=2000), nullable=False),
        sa.Column('created_at', hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_request')),
        sa.UniqueConstraint('owner', 'key', name=op.f('uq_idempotent_request_owner')),
    )
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.create_index('ix_idempotent_request_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotent_request_created_at')
    op.drop_table('idempotent_request')
