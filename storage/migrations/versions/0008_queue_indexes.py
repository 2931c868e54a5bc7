"""indexes for the review queue: matches by (status, score), listings by seller

Revision ID: 0008_queue_indexes
Revises: 0001
"""

from alembic import op

revision = '0008_queue_indexes'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_matches_status_score', 'matches', ['status', 'score'])
    op.create_index('ix_listings_seller', 'listings', ['seller'])


def downgrade() -> None:
    op.drop_index('ix_listings_seller', table_name='listings')
    op.drop_index('ix_matches_status_score', table_name='matches')
