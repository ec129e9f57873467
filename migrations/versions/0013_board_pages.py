"""forums: board pages kept like topic pages; a board's topic list by one index

`board.revision` moves on with every change a board's pages show (new topics and posts,
pins, locks, moves, renames, the board's own settings): kept board pages and the forum
index are keyed by it (forums.cache). `ix_topic_board_id_pinned_last_post_at` serves a
board's page (pinned or not, newest activity first) without sorting the board's topics;
it replaces `ix_topic_board_id_pinned`, which SQLite's planner would pick and then sort.

Revision ID: 0013_board_pages
Revises: 0012_email_first
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_board_pages'
down_revision = '0012_email_first'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('board', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0',
                                      nullable=False))
    op.drop_index('ix_topic_board_id_pinned', table_name='topic')
    op.create_index('ix_topic_board_id_pinned_last_post_at', 'topic',
                    ['board_id', 'pinned', 'last_post_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_topic_board_id_pinned_last_post_at', table_name='topic')
    op.create_index('ix_topic_board_id_pinned', 'topic', ['board_id', 'pinned'],
                    unique=False)
    with op.batch_alter_table('board', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('revision')
