"""re-match jobs: rematch_jobs (a brand's re-match of every stored listing, with progress)

Revision ID: 0003_rematch
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_rematch'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rematch_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('upto_listing_id', sa.Integer(), nullable=False),
    sa.Column('last_listing_id', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_rematch_jobs_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rematch_jobs'))
    )
    op.create_index(op.f('ix_rematch_jobs_brand_id'), 'rematch_jobs', ['brand_id'], unique=False)
    op.create_index(op.f('ix_rematch_jobs_status'), 'rematch_jobs', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rematch_jobs_status'), table_name='rematch_jobs')
    op.drop_index(op.f('ix_rematch_jobs_brand_id'), table_name='rematch_jobs')
    op.drop_table('rematch_jobs')
