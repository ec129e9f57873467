"""listserv: changes asked for by email wait for the member's confirmation

Revision ID: 0008_list_command_requests
Revises: 0007_member_pages
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0008_list_command_requests'
down_revision = '0007_member_pages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('list_command_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', hub.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', hub.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', hub.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_via', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['board.id'], name=op.f('fk_list_command_request_board_id_board'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['list_inbound.id'], name=op.f('fk_list_command_request_confirmed_by_id_list_inbound'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['inbound_id'], ['list_inbound.id'], name=op.f('fk_list_command_request_inbound_id_list_inbound'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_list_command_request_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_command_request'))
    )
    with op.batch_alter_table('list_command_request', schema=None) as batch_op:
        batch_op.create_index('ix_list_command_request_member_id_created_at', ['member_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('list_command_request', schema=None) as batch_op:
        batch_op.drop_index('ix_list_command_request_member_id_created_at')

    op.drop_table('list_command_request')
