"""query_runs: what each search query found on each source in each crawl

Search planned from the registry ranks its queries by what they found before: results, new listings
and suspects per query, source and crawl (``storage.models.QueryRun``).

Revision ID: 0010_queries
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_queries'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'query_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('crawl_run_id', sa.Integer(), nullable=False),
        sa.Column('scan_id', sa.String(length=64), nullable=True),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('query', sa.String(length=200), nullable=False),
        sa.Column('query_key', sa.String(length=200), nullable=False),
        sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
        sa.Column('new_listings', sa.Integer(), nullable=False),
        sa.Column('suspects', sa.Integer(), nullable=True),
        sa.Column('listing_ids', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['crawl_run_id'], ['crawl_runs.id'], ondelete='CASCADE',
                                name=op.f('fk_query_runs_crawl_run_id_crawl_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_query_runs')),
    )
    op.create_index(op.f('ix_query_runs_crawl_run_id'), 'query_runs', ['crawl_run_id'])
    op.create_index(op.f('ix_query_runs_scan_id'), 'query_runs', ['scan_id'])
    op.create_index('ix_query_runs_source_key', 'query_runs', ['source', 'query_key'])


def downgrade() -> None:
    op.drop_index('ix_query_runs_source_key', table_name='query_runs')
    op.drop_index(op.f('ix_query_runs_scan_id'), table_name='query_runs')
    op.drop_index(op.f('ix_query_runs_crawl_run_id'), table_name='query_runs')
    op.drop_table('query_runs')
