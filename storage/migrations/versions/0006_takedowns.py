"""evidence captures and files, takedown packs and takedowns, brands' trademarks and rights holder

Revision ID: 0006_takedowns
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_takedowns'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('brands') as batch:
        batch.add_column(sa.Column('trademarks', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('rights_holder', sa.JSON(), server_default='{}', nullable=False))
    with op.batch_alter_table('listings') as batch:
        batch.add_column(sa.Column('seller_id', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('seller_url', sa.String(length=2000), nullable=True))
    op.create_table('evidence_captures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('crawler', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_evidence_captures_listing_id', 'evidence_captures', ['listing_id'])
    op.create_index('ix_evidence_captures_match_id', 'evidence_captures', ['match_id'])
    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['capture_id'], ['evidence_captures.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('capture_id', 'kind', 'sha256')
    )
    op.create_index('ix_evidence_files_capture_id', 'evidence_files', ['capture_id'])
    op.create_index('ix_evidence_files_sha256', 'evidence_files', ['sha256'])
    op.create_table('takedown_packs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('marketplace', sa.String(length=200), nullable=True),
    sa.Column('format', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_takedown_packs_brand_id', 'takedown_packs', ['brand_id'])
    op.create_table('takedowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.String(length=36), nullable=False),
    sa.Column('marketplace', sa.String(length=200), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('forced_reason', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pack_id'], ['takedown_packs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_takedowns_match_id', 'takedowns', ['match_id'])
    op.create_index('ix_takedowns_outcome', 'takedowns', ['outcome'])
    op.create_index('ix_takedowns_pack_id', 'takedowns', ['pack_id'])


def downgrade() -> None:
    op.drop_table('takedowns')
    op.drop_table('takedown_packs')
    op.drop_table('evidence_files')
    op.drop_table('evidence_captures')
    with op.batch_alter_table('listings') as batch:
        batch.drop_column('seller_url')
        batch.drop_column('seller_id')
    with op.batch_alter_table('brands') as batch:
        batch.drop_column('rights_holder')
        batch.drop_column('trademarks')
