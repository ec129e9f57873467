"""forums search: the full-text index of posts (FTS5 on SQLite, tsvector + GIN on PostgreSQL), topic revision

Raw SQL that branches on the dialect, kept by forums.search: an FTS5 table
`forum_post_fts` (rowid = post id) on SQLite; the column `post.search_vector` with a GIN
index on PostgreSQL. Posts already stored are indexed here. `topic.revision` keys the
cached pages of a topic (forums.cache).

Revision ID: 0006_forums_search
Revises: 0005_conferences
Create Date: 2026-11-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_forums_search'
down_revision = '0005_conferences'
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade():
    # Never a table copy: dropping `topic` on SQLite would cascade to every post.
    with op.batch_alter_table('topic', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0',
                                      nullable=False))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE post ADD COLUMN search_vector tsvector")
    else:
        op.execute("CREATE VIRTUAL TABLE forum_post_fts USING fts5("
                   "title, body, tokenize = 'porter unicode61 remove_diacritics 2')")
    _index_existing_posts(bind)
    if bind.dialect.name == "postgresql":  # built after the backfill: faster
        op.execute("CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)")


def _index_existing_posts(bind):
    from forums.search import index_text

    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT post.id, post.position, post.html, topic.title FROM post "
            "JOIN topic ON topic.id = post.topic_id "
            "WHERE post.id > :last AND post.deleted_at IS NULL ORDER BY post.id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            return
        files = {}
        for post_id, filename in bind.execute(sa.text(
                "SELECT post_id, filename FROM attachment WHERE post_id BETWEEN :a AND :b"),
                {"a": rows[0][0], "b": rows[-1][0]}):
            files.setdefault(post_id, []).append(filename)
        _write(bind, [(post_id, *index_text(title if position == 1 else "", html,
                                            files.get(post_id, ())))
                      for post_id, position, html, title in rows])
        last = rows[-1][0]


def _write(bind, rows):
    """The index as this revision keeps it: on PostgreSQL the column `post.search_vector`
    (0018 moves it to a table of its own, where `forums.search` writes it now)."""
    from forums.search import write_index

    if bind.dialect.name != "postgresql":
        write_index(bind, rows)
        return
    bind.execute(sa.text(
        "UPDATE post SET search_vector = setweight(to_tsvector('english', :title), 'A') || "
        "setweight(to_tsvector('english', :body), 'B') WHERE id = :id"),
        [{"id": i, "title": t, "body": b} for i, t, b in rows])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_post_search_vector")
        op.execute("ALTER TABLE post DROP COLUMN IF EXISTS search_vector")
    else:
        op.execute("DROP TABLE IF EXISTS forum_post_fts")
    with op.batch_alter_table('topic', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('revision')  # SQLite >= 3.35 drops a column in place
