"""hub: the network's own content in several languages

Every table whose texts the Secretariat or a moderator writes for the network gains
`source_lang` (the language of the original) and `translations` (JSON: language ->
field -> text, see hub/content.py); `site_text` holds the network's rules and welcome
text. Members' names and organizations get an accent- and case-free search key.

Revision ID: 0015_content_translations
Revises: 0014_meetings
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


revision = '0015_content_translations'
down_revision = '0014_meetings'
branch_labels = None
depends_on = None

TABLES = ('thematic_area', 'group', 'board', 'conference', 'conference_round')


def upgrade():
    for table in TABLES:
        # In place, never a table copy (dropping `board` on SQLite would cascade).
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('source_lang', sa.String(length=5),
                                          server_default='en', nullable=False))
            batch_op.add_column(sa.Column('translations', sa.JSON(),
                                          server_default='{}', nullable=False))
    op.create_table(
        'site_text',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('updated_at', hub.types.UTCDateTime(), nullable=False),
        sa.Column('source_lang', sa.String(length=5), server_default='en', nullable=False),
        sa.Column('translations', sa.JSON(), server_default='{}', nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_site_text')),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE member ADD COLUMN search_vector tsvector")
    else:
        op.execute("CREATE VIRTUAL TABLE member_fts USING fts5("
                   "body, tokenize = 'unicode61 remove_diacritics 2')")
    from hub.directory import index_text, write_index

    rows = bind.execute(sa.text("SELECT id, name, organization FROM member")).all()
    write_index(bind, [(i, index_text(n, o)) for i, n, o in rows])
    if bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_member_search_vector ON member USING gin (search_vector)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_member_search_vector")
        op.execute("ALTER TABLE member DROP COLUMN IF EXISTS search_vector")
    else:
        op.execute("DROP TABLE IF EXISTS member_fts")
    op.drop_table('site_text')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.drop_column('translations')
            batch_op.drop_column('source_lang')
