"""registry: facet counts pre-aggregated by kind and review state

`registry_facet_count` holds, for each kind, review state and facet value, how many records
have it, so browsing without filters does not read every record's facets; every record
gains the facet ("kind", its kind), which counts the records themselves. Both are filled
from the existing rows here and kept by `hub.registry.tallies` from then on.

Revision ID: 0017_registry_facet_counts
Revises: 0016_registry_countries
Create Date: 2026-12-03 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_registry_facet_counts'
down_revision = '0016_registry_countries'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registry_facet_count',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'state', 'name', 'value',
                                name=op.f('pk_registry_facet_count')),
    )
    op.execute("INSERT INTO registry_facet (record_id, name, value) "
               "SELECT id, 'kind', kind FROM registry_record")
    op.execute("INSERT INTO registry_facet_count (kind, state, name, value, n) "
               "SELECT r.kind, r.state, f.name, f.value, count(*) FROM registry_facet f "
               "JOIN registry_record r ON r.id = f.record_id "
               "GROUP BY r.kind, r.state, f.name, f.value")


def downgrade():
    op.drop_table('registry_facet_count')
    op.execute("DELETE FROM registry_facet WHERE name = 'kind'")
