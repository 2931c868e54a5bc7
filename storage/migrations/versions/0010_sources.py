"""sources: source_states (quotas, Retry-After and resume points kept between nights), listings.seller_feedback

Revision ID: 0010_sources
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_sources'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'source_states',
        sa.Column('name', sa.String(length=200), primary_key=True),
        sa.Column('day', sa.String(length=10), nullable=False, server_default=''),
        sa.Column('calls_today', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resume', sa.JSON(), nullable=False),
        sa.Column('last_run_id', sa.Integer(), sa.ForeignKey('crawl_runs.id', ondelete='SET NULL'), nullable=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_outcome', sa.String(length=40), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table('listings') as batch:
        batch.add_column(sa.Column('seller_feedback', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('listings') as batch:
        batch.drop_column('seller_feedback')
    op.drop_table('source_states')
