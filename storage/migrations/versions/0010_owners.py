"""owners serve themselves: invitation and reset links, the company an owner account acts for, the registry audit,
indexes for the dashboard's periods

Revision ID: 0010_owners
Revises: 0004_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_owners'
down_revision = '0004_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_sha256', sa.String(64), nullable=False, unique=True),
        sa.Column('purpose', sa.String(10), nullable=False),
        sa.Column('username', sa.String(100), nullable=False),
        sa.Column('email', sa.String(254), nullable=False),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('owner_id', sa.Integer(), sa.ForeignKey('owners.id', ondelete='CASCADE'), nullable=True),
        sa.Column('brands', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index('ix_invitations_username', 'invitations', ['username'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_users_owner_id', 'owners', ['owner_id'], ['id'], ondelete='SET NULL')
    op.create_table(
        'registry_audit',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('brand_id', sa.Integer(), nullable=True),
        sa.Column('brand', sa.String(200), nullable=False),
        sa.Column('actor', sa.String(200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
    )
    op.create_index('ix_registry_audit_brand_id', 'registry_audit', ['brand_id'])
    # The dashboard counts a period's suspects and decisions: both by time.
    op.create_index('ix_matches_created_at', 'matches', ['created_at'])
    op.create_index('ix_match_events_at', 'match_events', ['at'])


def downgrade() -> None:
    op.drop_index('ix_match_events_at', table_name='match_events')
    op.drop_index('ix_matches_created_at', table_name='matches')
    op.drop_index('ix_registry_audit_brand_id', table_name='registry_audit')
    op.drop_table('registry_audit')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_owner_id', type_='foreignkey')
        batch.drop_column('owner_id')
    op.drop_index('ix_invitations_username', table_name='invitations')
    op.drop_table('invitations')
