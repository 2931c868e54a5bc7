"""seller networks: networks, network sellers and their evidence, seller links, relistings

Revision ID: 0010_networks
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_networks'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('networks',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grew_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sellers', sa.Integer(), nullable=False),
    sa.Column('previous_sellers', sa.Integer(), nullable=False),
    sa.Column('marketplaces', sa.JSON(), nullable=False),
    sa.Column('relistings', sa.Integer(), nullable=False),
    sa.Column('impact', sa.Float(), nullable=False),
    sa.Column('impact_reasons', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_networks'))
    )
    op.create_index(op.f('ix_networks_status'), 'networks', ['status'])
    op.create_index(op.f('ix_networks_impact'), 'networks', ['impact'])
    op.create_table('network_sellers',
    sa.Column('key', sa.String(length=600), nullable=False),
    sa.Column('marketplace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['marketplace_id'], ['marketplaces.id'],
                            name=op.f('fk_network_sellers_marketplace_id_marketplaces'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                            name=op.f('fk_network_sellers_network_id_networks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_network_sellers'))
    )
    op.create_index(op.f('ix_network_sellers_marketplace_id'), 'network_sellers', ['marketplace_id'])
    op.create_index(op.f('ix_network_sellers_network_id'), 'network_sellers', ['network_id'])
    op.create_table('seller_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_a', sa.String(length=600), nullable=False),
    sa.Column('seller_b', sa.String(length=600), nullable=False),
    sa.Column('strength', sa.Float(), nullable=False),
    sa.Column('strong', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_links')),
    sa.UniqueConstraint('seller_a', 'seller_b', name=op.f('uq_seller_links_seller_a_seller_b'))
    )
    op.create_index(op.f('ix_seller_links_seller_a'), 'seller_links', ['seller_a'])
    op.create_index(op.f('ix_seller_links_seller_b'), 'seller_links', ['seller_b'])
    op.create_table('relistings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('earlier_listing_id', sa.Integer(), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'],
                            name=op.f('fk_relistings_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['earlier_listing_id'], ['listings.id'],
                            name=op.f('fk_relistings_earlier_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relistings')),
    sa.UniqueConstraint('listing_id', 'earlier_listing_id', name=op.f('uq_relistings_listing_id_earlier_listing_id'))
    )
    op.create_index(op.f('ix_relistings_listing_id'), 'relistings', ['listing_id'])
    op.create_index(op.f('ix_relistings_earlier_listing_id'), 'relistings', ['earlier_listing_id'])


def downgrade() -> None:
    op.drop_table('relistings')
    op.drop_table('seller_links')
    op.drop_table('network_sellers')
    op.drop_table('networks')
