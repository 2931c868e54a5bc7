"""crawl runs know their target: crawl_runs.target_key, indexed with scan_id

A scan learns what each of its crawls did from the shared database; it used to find a target's runs by
reading the start URLs, profile and base URL back out of ``params`` JSON.  Runs recorded before this
revision get their key from that JSON once, here.

Revision ID: 0009_crawl_target
Revises: 0001
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '0009_crawl_target'
down_revision = '0001'
branch_labels = None
depends_on = None


def _target_key(start_urls: list, profile, base_url) -> str:
    """Frozen copy of ``crawlers.run.target_key`` as of this revision (migrations import no app code)."""
    identity = json.dumps([list(start_urls), profile, base_url], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('crawl_runs') as batch:
        batch.add_column(sa.Column('target_key', sa.String(length=64), nullable=True))
    op.create_index('ix_crawl_runs_scan_target', 'crawl_runs', ['scan_id', 'target_key'])
    runs = sa.table('crawl_runs', sa.column('id', sa.Integer), sa.column('scan_id', sa.String),
                    sa.column('params', sa.JSON), sa.column('target_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(runs.c.id, runs.c.params).where(runs.c.scan_id.is_not(None))).all()
    for run_id, params in rows:
        params = params if isinstance(params, dict) else {}
        key = _target_key(params.get("start_urls") or [], params.get("profile"), params.get("base_url"))
        connection.execute(runs.update().where(runs.c.id == run_id).values(target_key=key))


def downgrade() -> None:
    op.drop_index('ix_crawl_runs_scan_target', table_name='crawl_runs')
    with op.batch_alter_table('crawl_runs') as batch:
        batch.drop_column('target_key')
