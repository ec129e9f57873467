"""member pages: an index for "has this member held or rejected posts in this topic?"

Members' topic pages are rendered once for many members and made personal per request
(forums.cache); a member whose own held or rejected posts are on the page gets it
rendered for them alone, which this index answers without walking the topic.

Revision ID: 0007_member_pages
Revises: 0006_forums_search
Create Date: 2026-11-21 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_member_pages'
down_revision = '0006_forums_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_post_topic_id_author_id', 'post', ['topic_id', 'author_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_post_topic_id_author_id', table_name='post')
