"""owner digests: digests, digest_items, owners' digest preferences

Revision ID: 0005_digests
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_digests'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('path', sa.String(length=1000), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_digests_owner_id_owners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('message_id', name=op.f('uq_digests_message_id')),
    sa.UniqueConstraint('owner_id', 'sequence', name=op.f('uq_digests_owner_id_sequence'))
    )
    op.create_index(op.f('ix_digests_owner_id'), 'digests', ['owner_id'], unique=False)
    op.create_index(op.f('ix_digests_status'), 'digests', ['status'], unique=False)
    op.create_table('digest_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('klass', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['digests.id'], name=op.f('fk_digest_items_digest_id_digests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_digest_items_match_id_matches'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_items')),
    sa.UniqueConstraint('digest_id', 'match_id', name=op.f('uq_digest_items_digest_id_match_id'))
    )
    op.create_index(op.f('ix_digest_items_digest_id'), 'digest_items', ['digest_id'], unique=False)
    op.create_index(op.f('ix_digest_items_match_id'), 'digest_items', ['match_id'], unique=False)
    op.add_column('owners', sa.Column('digest_frequency', sa.String(length=10), server_default='daily', nullable=False))
    op.add_column('owners', sa.Column('digest_min_score', sa.Float(), nullable=True))
    op.add_column('owners', sa.Column('digest_classes', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('owners', sa.Column('digest_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('owners') as batch:
        batch.drop_column('digest_enabled')
        batch.drop_column('digest_classes')
        batch.drop_column('digest_min_score')
        batch.drop_column('digest_frequency')
    op.drop_index(op.f('ix_digest_items_match_id'), table_name='digest_items')
    op.drop_index(op.f('ix_digest_items_digest_id'), table_name='digest_items')
    op.drop_table('digest_items')
    op.drop_index(op.f('ix_digests_status'), table_name='digests')
    op.drop_index(op.f('ix_digests_owner_id'), table_name='digests')
    op.drop_table('digests')
