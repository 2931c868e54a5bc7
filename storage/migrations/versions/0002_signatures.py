"""typed image signatures: table image_signatures, existing images.hashes converted, images.hashes dropped

Revision ID: 0002_signatures
Revises: 0001

Each version-1 signature (one JSON dict of about 17 KB with base64 keypoints, in ``images.hashes``) becomes one
``image_signatures`` row: ``fields`` (small JSON) and ``keypoints`` (binary), through
``matching.images.upgrade_legacy_signature``. A dict that cannot be converted (empty, malformed) gets no row,
so the signature stage computes that image again from its file. Downgrade writes the version-1 dicts back.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0002_signatures'
down_revision = '0001'
branch_labels = None
depends_on = None

#: Rows converted per round trip.
CHUNK = 500

images = sa.table('images', sa.column('sha256', sa.String), sa.column('hashes', sa.JSON))
signatures = sa.table(
    'image_signatures', sa.column('sha256', sa.String), sa.column('version', sa.Integer),
    sa.column('status', sa.String), sa.column('error', sa.String), sa.column('fields', sa.JSON),
    sa.column('keypoints', sa.LargeBinary), sa.column('ocr_text', sa.Text),
    sa.column('computed_at', sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table('image_signatures',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('keypoints', sa.LargeBinary(), nullable=True),
    sa.Column('ocr_text', sa.Text(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['images.sha256'], name=op.f('fk_image_signatures_sha256_images'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_image_signatures'))
    )
    with op.batch_alter_table('image_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_signatures_status'), ['status'], unique=False)
    _convert_legacy_rows()
    # A plain ALTER TABLE (SQLite >= 3.35 has DROP COLUMN): batch mode would copy and drop the images table,
    # and dropping it cascades to the signature rows just written.
    op.drop_column('images', 'hashes')


def _convert_legacy_rows() -> None:
    bind = op.get_bind()
    last = ''
    upgrade_legacy = None
    while True:
        rows = bind.execute(
            sa.select(images.c.sha256, images.c.hashes).where(images.c.sha256 > last)
            .order_by(images.c.sha256).limit(CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        if upgrade_legacy is None:
            # deferred: only a database holding version-1 rows pays for loading the image code (numpy, cv2)
            from matching.images import upgrade_legacy_signature as upgrade_legacy
        now = dt.datetime.now(dt.UTC)
        converted = []
        for sha, old in rows:
            try:
                sig = upgrade_legacy(old) if isinstance(old, dict) and old else None
            except ValueError:
                sig = None
            if sig is None:
                continue  # recomputed from the file by the signature stage
            converted.append({
                'sha256': sha, 'version': sig.version, 'status': 'ok', 'error': None,
                'fields': sig.stored_fields(), 'keypoints': sig.keypoint_bytes(), 'ocr_text': None,
                'computed_at': now,
            })
        if converted:
            bind.execute(signatures.insert(), converted)


def downgrade() -> None:
    # Plain ALTER TABLE, for the reason given in upgrade(); the server default stays (it is harmless).
    op.add_column('images', sa.Column('hashes', sa.JSON(), nullable=False, server_default='{}'))
    bind = op.get_bind()
    rows = bind.execute(sa.select(signatures.c.sha256, signatures.c.fields, signatures.c.keypoints)
                        .where(signatures.c.status == 'ok')).all()
    if rows:
        from matching.images import (  # deferred: see _convert_legacy_rows
            LEGACY_UPGRADE_VERSION,
            ImageSignature,
        )

        for sha, fields, keypoints in rows:
            try:
                legacy = dict(ImageSignature.from_stored(fields, keypoints, oldest=LEGACY_UPGRADE_VERSION).legacy())
            except ValueError:
                continue
            bind.execute(images.update().where(images.c.sha256 == sha).values(hashes=legacy))
    with op.batch_alter_table('image_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_signatures_status'))
    op.drop_table('image_signatures')
