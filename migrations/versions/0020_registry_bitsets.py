"""registry: facet values, review states and common words as bitsets of record ids

`registry_bitset` holds, for each facet value, review state and common full-text term, a
bit per record id (32,768 ids a row), so that a common word with filters is counted by
ANDing bitsets instead of reading the records the word finds; `registry_common_term` says
which terms are kept. `hub.registry.bitsets` keeps them from then on; they are used once
complete: an empty registry is complete now, an existing one after `hub registry reindex`
(or `hub registry recount`) has built them.

Revision ID: 0020_registry_bitsets
Revises: 0019_registry_pairs_and_matches
Create Date: 2026-12-06 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_registry_bitsets'
down_revision = '0019_registry_pairs_and_matches'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registry_bitset',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('chunk', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bits', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'value', 'chunk', name=op.f('pk_registry_bitset')),
    )
    op.create_table(
        'registry_common_term',
        sa.Column('term', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('term', name=op.f('pk_registry_common_term')),
    )
    # Nothing to build for an empty registry: complete from the first record on.
    op.get_bind().execute(sa.text(
        "INSERT INTO registry_bitset (name, value, chunk, bits) "
        "SELECT 'built', '', -1, :none WHERE NOT EXISTS (SELECT 1 FROM registry_record)"),
        {"none": b""})


def downgrade():
    op.drop_table('registry_common_term')
    op.drop_table('registry_bitset')
