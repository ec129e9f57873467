"""conferences: cancelled conferences; moderators' summaries after a board closes

`conference.cancelled_at` and `conference.cancel_reason`: the Secretariat called the
conference off. `board.summaries_after_close`: after the board's window, its moderators
may still post summaries; set here for the boards of conferences whose proceedings are
not published yet, as new conferences have it.

Revision ID: 0010_conference_cancel
Revises: 0009_pending_edits
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0010_conference_cancel'
down_revision = '0009_pending_edits'
branch_labels = None
depends_on = None


def upgrade():
    # Columns added in place, never a table copy (dropping `board` or `conference` on
    # SQLite would cascade to their topics, registrations and rounds).
    with op.batch_alter_table('board', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('summaries_after_close', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    with op.batch_alter_table('conference', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', hub.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), server_default='',
                                      nullable=False))
    op.execute(
        "UPDATE board SET summaries_after_close = true WHERE id IN ("
        " SELECT conference.board_id FROM conference WHERE NOT EXISTS ("
        "  SELECT 1 FROM conference_proceedings p WHERE p.conference_id = conference.id"
        "  AND p.published_at IS NOT NULL))")


def downgrade():
    with op.batch_alter_table('conference', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
    with op.batch_alter_table('board', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('summaries_after_close')
