"""listserv: network defaults for new members, one digest per member per period, the
digest format, announcements to part of the network

Revision ID: 0012_email_first
Revises: 0011_idempotency
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0012_email_first'
down_revision = '0011_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('list_defaults',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_ids', sa.JSON(), nullable=False),
    sa.Column('board_mode', sa.String(length=10), nullable=False),
    sa.Column('thematic_mode', sa.String(length=10), nullable=False),
    sa.Column('updated_at', hub.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['member.id'], name=op.f('fk_list_defaults_updated_by_id_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_list_defaults'))
    )
    op.create_table('list_member_prefs',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('digest_format', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_list_member_prefs_member_id_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_list_member_prefs'))
    )
    op.create_table('list_announcement',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('created_at', hub.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_list_announcement_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_list_announcement'))
    )
    # Digests are now one per member and period: keep one run per (member, mode, period)
    # of the per-board ones, so a period already sent is not sent again.
    op.execute(
        "DELETE FROM list_digest WHERE id NOT IN (SELECT MIN(id) FROM list_digest "
        "GROUP BY member_id, mode, period_start)")
    with op.batch_alter_table('list_digest', schema=None) as batch_op:
        batch_op.drop_constraint('uq_list_digest_member_id_board_id_mode_period_start', type_='unique')
        batch_op.alter_column('board_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint('uq_list_digest_member_id_mode_period_start', ['member_id', 'mode', 'period_start'])


def downgrade():
    with op.batch_alter_table('list_digest', schema=None) as batch_op:
        batch_op.drop_constraint('uq_list_digest_member_id_mode_period_start', type_='unique')
    op.execute("DELETE FROM list_digest WHERE board_id IS NULL")
    with op.batch_alter_table('list_digest', schema=None) as batch_op:
        batch_op.alter_column('board_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint('uq_list_digest_member_id_board_id_mode_period_start', ['member_id', 'board_id', 'mode', 'period_start'])
    op.drop_table('list_announcement')
    op.drop_table('list_member_prefs')
    op.drop_table('list_defaults')
