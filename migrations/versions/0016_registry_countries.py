"""registry: countries and regions on every kind, language editions, focal points

`registry_record.editions` (other language editions) and `.submitter` (entered by the
Secretariat on behalf of someone); reports gain regions, language, abstract and lessons
learned, resources regions; `registry_focal_point` names a country's national focal
points; `conference.countries` lists the countries a conference is held in or about.

Revision ID: 0016_registry_countries
Revises: 0015_content_translations
Create Date: 2026-12-03 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import hub.types


# revision identifiers, used by Alembic.
revision = '0016_registry_countries'
down_revision = '0015_content_translations'
branch_labels = None
depends_on = None


def upgrade():
    # Columns added in place, never a table copy (a copy of registry_record on SQLite
    # would cascade to every kind's rows).
    with op.batch_alter_table('registry_record', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('editions', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('submitter', sa.JSON(), nullable=True))
    with op.batch_alter_table('registry_resource', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('regions', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('registry_report', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('regions', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('abstract', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('lessons_learned', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('conference', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('countries', sa.JSON(), server_default='[]', nullable=False))
    op.create_table(
        'registry_focal_point',
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('created_at', hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['member.id'],
                                name=op.f('fk_registry_focal_point_created_by_id_member'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'],
                                name=op.f('fk_registry_focal_point_member_id_member'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('country', 'member_id', name=op.f('pk_registry_focal_point')),
    )
    with op.batch_alter_table('registry_focal_point', schema=None) as batch_op:
        batch_op.create_index('ix_registry_focal_point_member_id', ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('registry_focal_point', schema=None) as batch_op:
        batch_op.drop_index('ix_registry_focal_point_member_id')
    op.drop_table('registry_focal_point')
    with op.batch_alter_table('conference', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('countries')
    with op.batch_alter_table('registry_report', schema=None, recreate='never') as batch_op:
        for name in ('lessons_learned', 'abstract', 'language', 'regions'):
            batch_op.drop_column(name)
    with op.batch_alter_table('registry_resource', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('regions')
    with op.batch_alter_table('registry_record', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('submitter')
        batch_op.drop_column('editions')
