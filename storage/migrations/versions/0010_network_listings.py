"""seller networks: each listing's network and impact (the queue's impact sort)

Revision ID: 0010_network_listings
Revises: 0010_networks (the same feature's head: its foreign key names the networks table, and 0010_networks
was already merged, so it is not edited)
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_network_listings'
down_revision = '0010_networks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('network_listings',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('impact', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'],
                            name=op.f('fk_network_listings_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                            name=op.f('fk_network_listings_network_id_networks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_network_listings'))
    )
    op.create_index(op.f('ix_network_listings_network_id'), 'network_listings', ['network_id'])


def downgrade() -> None:
    op.drop_table('network_listings')
