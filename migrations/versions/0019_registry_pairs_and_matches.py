"""registry: facet counts by one chosen filter, and the keys matching compares

`registry_facet_pair_count` holds, for each kind, review state, one filter (a country, a
region, a thematic area, a type, a status, a language, or what an opportunity is open to)
and facet value, how many records have it, so a page with one filter chosen does not read
every record found. `registry_match_key` holds, for each published project and
opportunity, each of its thematic areas with each place it is in (or open to), with the
rest of the score's inputs, so that a need's matches are one grouped read of the rows
that share an area and a place with it. Both are filled from the
existing rows here (`hub.registry.tallies` and `hub.registry.match_keys`, which keep them
from then on).

Revision ID: 0019_registry_pairs_and_matches
Revises: 0018_forums_search_table
Create Date: 2026-12-04 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0019_registry_pairs_and_matches'
down_revision = '0018_forums_search_table'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registry_facet_pair_count',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('name1', sa.String(length=20), nullable=False),
        sa.Column('value1', sa.String(length=200), nullable=False),
        sa.Column('name2', sa.String(length=20), nullable=False),
        sa.Column('value2', sa.String(length=200), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'state', 'name1', 'value1', 'name2', 'value2',
                                name=op.f('pk_registry_facet_pair_count')),
    )
    op.create_table(
        'registry_match_key',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('theme', sa.String(length=200), nullable=False),
        sa.Column('place', sa.String(length=210), nullable=False),
        sa.Column('geography', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('bonus', sa.Integer(), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=True),
        sa.Column('open_until', sa.Date(), nullable=True),
        sa.Column('updated_at', hub.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['registry_record.id'],
                                name=op.f('fk_registry_match_key_record_id_registry_record'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('record_id', 'theme', 'place',
                                name=op.f('pk_registry_match_key')),
    )
    op.create_index('ix_registry_match_key_theme_place', 'registry_match_key',
                    ['theme', 'place', 'record_id', 'geography', 'kind', 'bonus', 'deadline',
                     'open_until', 'updated_at'], unique=False)
    from hub.registry import match_keys, tallies

    bind = op.get_bind()
    for stmt in tallies.pair_statements() + match_keys.rebuild_statements():
        bind.execute(stmt)


def downgrade():
    op.drop_index('ix_registry_match_key_theme_place', table_name='registry_match_key')
    op.drop_table('registry_match_key')
    op.drop_table('registry_facet_pair_count')
