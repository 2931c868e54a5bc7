"""matches.review_snapshot: the review snapshot in its own column, out of matches.signals

The listing fields a match was last scored on were kept inside ``signals`` under ``listing_snapshot``. They
move to their own column (``storage.listing_content.review_snapshot`` writes it, from the same field list
as the crawl's content hash); rows scored before snapshots existed keep null there.

Revision ID: 0010_findings
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_findings'
down_revision = '0001'
branch_labels = None
depends_on = None

SNAPSHOT_KEY = "listing_snapshot"
BATCH = 500

matches = sa.table('matches', sa.column('id', sa.Integer), sa.column('signals', sa.JSON),
                   sa.column('review_snapshot', sa.JSON))


def _rows(connection):
    """(id, signals) of every match, a batch at a time by id (the table may be large)."""
    last = 0
    while True:
        rows = connection.execute(sa.select(matches.c.id, matches.c.signals).where(matches.c.id > last)
                                  .order_by(matches.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('matches') as batch:
        batch.add_column(sa.Column('review_snapshot', sa.JSON(), nullable=True))
    connection = op.get_bind()
    for match_id, signals in list(_rows(connection)):
        if not isinstance(signals, dict) or SNAPSHOT_KEY not in signals:
            continue
        snapshot = signals[SNAPSHOT_KEY]
        rest = {k: v for k, v in signals.items() if k != SNAPSHOT_KEY}
        connection.execute(matches.update().where(matches.c.id == match_id).values(
            review_snapshot=snapshot if isinstance(snapshot, dict) else None, signals=rest))


def downgrade() -> None:
    connection = op.get_bind()
    for match_id, signals in list(_rows(connection)):
        snapshot = connection.execute(sa.select(matches.c.review_snapshot).where(matches.c.id == match_id)).scalar()
        if isinstance(snapshot, dict):
            connection.execute(matches.update().where(matches.c.id == match_id).values(
                signals={**(signals if isinstance(signals, dict) else {}), SNAPSHOT_KEY: snapshot}))
    with op.batch_alter_table('matches') as batch:
        batch.drop_column('review_snapshot')
