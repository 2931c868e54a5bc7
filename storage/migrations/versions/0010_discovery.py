"""discovery: official domains of brands, domain candidates with their audit trail, CT log positions, the
resolver's daily budget

Revision ID: 0010_discovery
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_discovery'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('brands') as batch:
        batch.add_column(sa.Column('official_domains', sa.JSON(), server_default='[]', nullable=False))
    op.create_table(
        'domain_candidates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('ascii_domain', sa.String(length=253), nullable=False),
        sa.Column('feeds', sa.JSON(), nullable=False),
        sa.Column('mark', sa.String(length=200), nullable=False),
        sa.Column('disguise', sa.String(length=40), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_resolved', sa.DateTime(timezone=True), nullable=True),
        sa.Column('kind', sa.String(length=30), server_default='unchecked', nullable=False),
        sa.Column('check', sa.JSON(), server_default='{}', nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), server_default='', nullable=False),
        sa.Column('status', sa.String(length=20), server_default='new', nullable=False),
        sa.Column('dismissed_fingerprint', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_domain_candidates_brand_id_brands'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_candidates')),
        sa.UniqueConstraint('brand_id', 'domain', name=op.f('uq_domain_candidates_brand_id_domain')),
    )
    for column in ('brand_id', 'ascii_domain', 'first_seen', 'kind', 'status'):
        op.create_index(op.f(f'ix_domain_candidates_{column}'), 'domain_candidates', [column])
    op.create_table(
        'domain_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('detail', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['domain_candidates.id'],
                                name=op.f('fk_domain_events_candidate_id_domain_candidates'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_events')),
    )
    op.create_index(op.f('ix_domain_events_candidate_id'), 'domain_events', ['candidate_id'])
    op.create_table(
        'ct_log_states',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('api', sa.String(length=20), nullable=False),
        sa.Column('next_index', sa.BigInteger(), nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ct_log_states')),
        sa.UniqueConstraint('url', name=op.f('uq_ct_log_states_url')),
    )
    op.create_table(
        'resolver_budgets',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('queries', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_resolver_budgets')),
    )


def downgrade() -> None:
    op.drop_table('resolver_budgets')
    op.drop_table('ct_log_states')
    op.drop_index(op.f('ix_domain_events_candidate_id'), table_name='domain_events')
    op.drop_table('domain_events')
    for column in ('status', 'kind', 'first_seen', 'ascii_domain', 'brand_id'):
        op.drop_index(op.f(f'ix_domain_candidates_{column}'), table_name='domain_candidates')
    op.drop_table('domain_candidates')
    with op.batch_alter_table('brands') as batch:
        batch.drop_column('official_domains')
