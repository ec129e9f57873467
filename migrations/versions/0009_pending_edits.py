"""forums: edits waiting for a moderator on pre-moderated boards (post_edit), and the
per-topic change sequence live pages catch up by (topic.change_seq, post.change_seq,
post.published_seq)

Existing rows start at 0: pages rendered after the upgrade read the counters as they
move on from there.

Revision ID: 0009_pending_edits
Revises: 0008_list_command_requests
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0009_pending_edits'
down_revision = '0008_list_command_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('post_edit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', hub.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', hub.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'approved', 'rejected', 'replaced', 'withdrawn')", name=op.f('ck_post_edit_state')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['member.id'], name=op.f('fk_post_edit_decided_by_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['editor_id'], ['member.id'], name=op.f('fk_post_edit_editor_id_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], name=op.f('fk_post_edit_post_id_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_edit'))
    )
    with op.batch_alter_table('post_edit', schema=None) as batch_op:
        batch_op.create_index('ix_post_edit_post_id_state', ['post_id', 'state'], unique=False)
        batch_op.create_index('ix_post_edit_state', ['state'], unique=False)

    # Never a table copy: dropping `topic` or `post` on SQLite would cascade.
    with op.batch_alter_table('topic', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('post', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('published_seq', sa.Integer(), server_default='0',
                                      nullable=False))
    op.create_index('ix_post_topic_id_change_seq', 'post', ['topic_id', 'change_seq'],
                    unique=False)


def downgrade():
    op.drop_index('ix_post_topic_id_change_seq', table_name='post')
    with op.batch_alter_table('post', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('published_seq')
        batch_op.drop_column('change_seq')
    with op.batch_alter_table('topic', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('change_seq')
    with op.batch_alter_table('post_edit', schema=None) as batch_op:
        batch_op.drop_index('ix_post_edit_state')
        batch_op.drop_index('ix_post_edit_post_id_state')
    op.drop_table('post_edit')
