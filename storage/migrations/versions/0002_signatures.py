"""typed image signatures: table image_signatures, existing images.hashes converted, images.hashes dropped

Revision ID: 0002_signatures
Revises: 0001

Each version-1 signature (one JSON dict of about 17 KB with base64 keypoints, in ``images.hashes``) becomes one
``image_signatures`` row: ``fields`` (small JSON) and ``keypoints`` (binary), of version 2. A dict that cannot be
converted (empty, malformed) gets no row, so the signature stage computes that image again from its file.
Downgrade writes the version-1 dicts back.

Both converters are frozen here, in plain Python (base64 and struct, no numpy): a migration must keep doing
what it did when it was written, whatever the matching code becomes, and imports nothing above ``storage``.
The formats are those of December 2026: version 1 as described in :func:`_fields_of_version_1`, version 2
as :mod:`matching.signature_codec` documents it (its ``fields`` and its ``LKP`` keypoint blob).
"""

import base64
import datetime as dt
import struct
from collections.abc import Mapping
from typing import Any

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
    while True:
        rows = bind.execute(
            sa.select(images.c.sha256, images.c.hashes).where(images.c.sha256 > last)
            .order_by(images.c.sha256).limit(CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        now = dt.datetime.now(dt.UTC)
        converted = []
        for sha, old in rows:
            try:
                fields, keypoints = _fields_of_version_1(old)
            except ValueError:
                continue  # recomputed from the file by the signature stage
            converted.append({
                'sha256': sha, 'version': VERSION, 'status': 'ok', 'error': None,
                'fields': fields, 'keypoints': keypoints, 'ocr_text': None, 'computed_at': now,
            })
        if converted:
            bind.execute(signatures.insert(), converted)


def downgrade() -> None:
    # Plain ALTER TABLE, for the reason given in upgrade(); the server default stays (it is harmless).
    op.add_column('images', sa.Column('hashes', sa.JSON(), nullable=False, server_default='{}'))
    bind = op.get_bind()
    rows = bind.execute(sa.select(signatures.c.sha256, signatures.c.fields, signatures.c.keypoints)
                        .where(signatures.c.status == 'ok')).all()
    for sha, fields, keypoints in rows:
        try:
            old = _version_1_of(fields, keypoints)
        except ValueError:
            continue
        bind.execute(images.update().where(images.c.sha256 == sha).values(hashes=old))
    with op.batch_alter_table('image_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_signatures_status'))
    op.drop_table('image_signatures')


# --- the frozen converters -------------------------------------------------------------------------------
#: The version a converted signature gets: its hashes and keypoints are version 1's (luma, no regions, no
#: text), so matching leaves it out until the signature stage computes it again.
VERSION = 2
HASH_FIELDS = ('phash', 'dhash', 'whash', 'phash_m', 'dhash_m', 'whash_m')
THUMB_BYTES = 24 * 24 * 3
KEYPOINT_MAGIC = b'LKP'
KEYPOINT_HEAD = struct.Struct('<BHH')  # format 1, keypoints of the image, of its mirror


def _fields_of_version_1(old: Any) -> tuple[dict[str, Any], bytes | None]:
    """Version-2 ``(fields, keypoints)`` of a version-1 dict: ``{"v": 1, "width", "height", "phash", "dhash",
    "whash", "phash_m", "dhash_m", "whash_m" (16 hex digits each), "trim": {six hashes} | null,
    "box": [l, t, r, b] | null, "thumb": {"size": [w, h], "rgb": base64 of 24x24x3 bytes},
    "orb" and "orb_m": {"n", "size", "xy": base64 of n x 2 uint16 (1/8 pixel), "desc": base64 of n x 32 bytes}}``.
    Hashes and keypoints are kept as they are. ValueError when ``old`` is not a readable version-1 dict."""
    if not isinstance(old, Mapping) or old.get('v') != 1:
        raise ValueError('not a version-1 signature')
    try:
        thumb = old.get('thumb') or {}
        size = _pair(thumb['size']) if thumb.get('size') else (1, 1)
        rgb = base64.b64decode(thumb['rgb']) if thumb.get('rgb') else b''
        if len(rgb) != THUMB_BYTES:
            rgb = bytes(THUMB_BYTES)
        plain, mirrored = _orb(old.get('orb')), _orb(old.get('orb_m'))
        fields = {
            'v': VERSION, 'width': int(old['width']), 'height': int(old['height']), 'size': list(size),
            'hashes': _hashes(old), 'trimmed': _hashes(old['trim']) if old.get('trim') else None,
            'box': list(_box(old['box'])) if old.get('box') else None, 'regions': [],
            'thumb': base64.b64encode(rgb).decode('ascii'), 'text': None, 'text_boxes': None,
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # binascii.Error is a ValueError
        raise ValueError(f'malformed version-1 signature: {exc}') from None
    if plain is None and mirrored is None:
        return fields, None
    sets = [plain or (b'', b''), mirrored or (b'', b'')]
    blob = [KEYPOINT_MAGIC, KEYPOINT_HEAD.pack(1, len(sets[0][1]) // 32, len(sets[1][1]) // 32)]
    for xy, desc in sets:
        blob += [xy, desc]
    return fields, b''.join(blob)


def _version_1_of(fields: Any, keypoints: bytes | None) -> dict[str, Any]:
    """The version-1 dict of a stored signature of version 2 or later (regions and text are dropped)."""
    try:
        if int(fields['v']) < VERSION:
            raise ValueError('not a stored signature')
        size = list(_pair(fields['size']))
        thumb = base64.b64decode(fields['thumb'], validate=True)
        if len(thumb) != THUMB_BYTES:
            raise ValueError('thumbnail has the wrong size')
        old = {'v': 1, 'width': int(fields['width']), 'height': int(fields['height']), **_hashes(fields['hashes'])}
        old['trim'] = _hashes(fields['trimmed']) if fields.get('trimmed') else None
        old['box'] = list(_box(fields['box'])) if fields.get('box') else None
        old['thumb'] = {'size': size, 'rgb': base64.b64encode(thumb).decode('ascii')}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f'malformed stored signature: {exc}') from None
    sets = _unpack_keypoints(keypoints) if keypoints is not None else [None, None]
    for key, kp in zip(('orb', 'orb_m'), sets, strict=True):
        xy, desc = kp or (b'', b'')
        old[key] = {'n': len(desc) // 32, 'size': size, 'xy': base64.b64encode(xy).decode('ascii'),
                    'desc': base64.b64encode(desc).decode('ascii')}
    return old


def _hashes(data: Any) -> dict[str, str]:
    out = {}
    for key in HASH_FIELDS:
        value = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(value, str) or len(value) != 16:
            raise ValueError(f'hash {key!r} is not 16 hex digits')
        int(value, 16)
        out[key] = value.lower()
    return out


def _pair(value: Any) -> tuple[int, int]:
    a, b = (int(v) for v in value)
    if a <= 0 or b <= 0:
        raise ValueError('size must be positive')
    return a, b


def _box(value: Any) -> tuple[int, int, int, int]:
    left, top, right, bottom = (int(v) for v in value)
    if right <= left or bottom <= top:
        raise ValueError('empty box')
    return left, top, right, bottom


def _orb(orb: Any) -> tuple[bytes, bytes] | None:
    """(xy, descriptors) bytes of a version-1 ``orb`` entry: None when there is no entry, empty for no
    keypoints or a damaged entry."""
    if not isinstance(orb, Mapping):
        return None
    try:
        n = int(orb['n']) if orb.get('n') else 0
        xy, desc = base64.b64decode(orb['xy']), base64.b64decode(orb['desc'])
    except (KeyError, TypeError, ValueError):  # binascii.Error is a ValueError
        return b'', b''
    if n <= 0 or len(xy) != 4 * n or len(desc) != 32 * n:
        return b'', b''
    return xy, desc


def _unpack_keypoints(blob: Any) -> list[tuple[bytes, bytes]]:
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ValueError('keypoints must be bytes')
    blob = bytes(blob)
    head = len(KEYPOINT_MAGIC) + KEYPOINT_HEAD.size
    if len(blob) < head or blob[:3] != KEYPOINT_MAGIC:
        raise ValueError('malformed keypoints')
    fmt, n1, n2 = KEYPOINT_HEAD.unpack(blob[3:head])
    if fmt != 1 or len(blob) != head + 36 * (n1 + n2):
        raise ValueError('malformed keypoints')
    out, pos = [], head
    for n in (n1, n2):
        out.append((blob[pos:pos + 4 * n], blob[pos + 4 * n:pos + 36 * n]))
        pos += 36 * n
    return out
