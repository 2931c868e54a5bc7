"""matches.evidence: the evidence each match's score and class came from

Revision ID: 0007_evidence
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_evidence'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matches') as batch:
        batch.add_column(sa.Column('evidence', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('matches') as batch:
        batch.drop_column('evidence')
