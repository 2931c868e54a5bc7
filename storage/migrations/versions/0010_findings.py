"""findings stored once: matches.review_snapshot gets its own column, matches.signals is dropped

A match kept its findings three times: ``evidence`` (typed, since 0007), ``reasons`` and ``signals`` (a loose
JSON summary, which also carried the review snapshot under ``listing_snapshot``). Now:

- the snapshot moves to ``matches.review_snapshot`` (``storage.listing_content.review_snapshot`` writes it,
  from the same field list as the crawl's content hash);
- rows scored before 0007 have no evidence, only legacy ``signals`` (``marks``, ``images``, ``price``,
  ``seller``): a frozen converter below turns those into evidence records (the shape of
  ``matching.evidence.Evidence.to_json`` as of this revision), so the review app reads one form;
- ``matches.signals`` is dropped. On SQLite the column is dropped in place (``ALTER TABLE ... DROP COLUMN``,
  batch mode without recreating the table: recreating ``matches`` under ``PRAGMA foreign_keys=ON`` would
  cascade-delete its events, evidence files and takedowns).

The downgrade restores the column with the snapshot inside it; the rest of a legacy summary is not restored
(the evidence holds it).

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
MAX_REASON = 400

matches = sa.table('matches', sa.column('id', sa.Integer), sa.column('listing_id', sa.Integer),
                   sa.column('signals', sa.JSON), sa.column('evidence', sa.JSON),
                   sa.column('review_snapshot', sa.JSON))
listings = sa.table('listings', sa.column('id', sa.Integer), sa.column('title', sa.Text))

#: Frozen copy of the mark finder's normalisation steps -> ``Evidence.disguise`` names (matching.signals.text).
_DISGUISE_OF = (
    ("confusables", "homoglyphs"), ("confusables_I", "homoglyphs"), ("zero_width", "zero_width"),
    ("leetspeak", "leetspeak"), ("spacing", "spacing"), ("separators", "separators"), ("compat", "styled_letters"),
    ("repeats", "repeats"), ("accents", "accents"),
)


def _rows(connection, *columns):
    """Rows of ``matches`` with ``columns``, a batch at a time by id (the table may be large)."""
    last = 0
    while True:
        rows = connection.execute(sa.select(matches.c.id, *columns).where(matches.c.id > last)
                                  .order_by(matches.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _number(value, default=0.0):
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _box(value):
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    try:
        return [min(1.0, max(0.0, float(v))) for v in value]
    except (TypeError, ValueError):
        return None


def _clip(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _mark(found, title, strength):
    """One legacy ``signals["marks"][]`` entry as mark evidence (its span, else the text found in the title)."""
    field, mark, text = str(found.get("field") or "title"), str(found["mark"]), str(found.get("text") or "")
    spans = []
    span = found.get("span")
    if isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(v, int) for v in span):
        spans.append({"field": field, "start": span[0], "end": span[1]})
    elif field == "title" and text.strip() and title:
        at = title.lower().find(text.strip().lower())
        if at >= 0:
            spans.append({"field": "title", "start": at, "end": at + len(text.strip())})
    changes = [c for c in found.get("changes") or [] if isinstance(c, str)]
    disguise = next((name for change, name in _DISGUISE_OF if change in changes), None)
    edits = found.get("edits")
    if disguise is None and found.get("kind") == "joined":
        disguise = "joined_words"
    if disguise is None and isinstance(edits, int) and edits > 0:
        disguise = "misspelling"
    return {"signal": "mark", "strength": strength, "role": "identifies",
            "reason": _clip(f"{field} '{text}' matches the mark {mark}" if text else f"{field} names {mark}"),
            "spans": spans, "disguise": disguise, "regions": [], "details": {"mark": mark}}


def _image(hit):
    """One legacy ``signals["images"][]`` hit as image evidence with its region."""
    number, ref = hit.get("image"), str(hit.get("ref") or "an official photo")
    method = str(hit.get("method") or "image")
    if method == "keypoints":
        note = f"{hit.get('inliers', '?')} matching keypoints" + (", mirrored" if hit.get("mirrored") else "")
    else:
        distances = hit.get("distances") if isinstance(hit.get("distances"), dict) else {}
        note = ", ".join(f"{k} {v}" for k, v in sorted(distances.items())) or method
    regions = []
    if isinstance(number, int) and not isinstance(number, bool) and hit.get("ref_id") is not None:
        regions.append({"image_no": number, "ref_id": str(hit["ref_id"]), "listing_box": _box(hit.get("region")),
                        "reference_box": None, "kind": None, "note": _clip(note)[:300]})
    return {"signal": "image", "strength": max(0.0, min(1.0, _number(hit.get("strength")))), "role": "identifies",
            "reason": _clip(f"image {number} matches {ref} ({note})"), "spans": [], "disguise": None,
            "regions": regions, "details": {"method": method, "sku": hit.get("sku"), "ref": ref}}


def legacy_evidence(signals, title):
    """Evidence records for a legacy ``signals`` summary (rows scored before 0007); [] when it holds none."""
    if not isinstance(signals, dict):
        return []
    out = []
    strength = max(0.0, min(1.0, _number(signals.get("name"))))
    for found in signals.get("marks") or []:
        if isinstance(found, dict) and isinstance(found.get("mark"), str):
            out.append(_mark(found, title, strength))
    out.extend(_image(hit) for hit in signals.get("images") or [] if isinstance(hit, dict))
    price = signals.get("price")
    if isinstance(price, dict) and isinstance(price.get("ratio"), int | float):
        ratio = float(price["ratio"])
        out.append({"signal": "price", "strength": 0.0, "role": "supports",
                    "reason": f"price {ratio * 100:.0f}% of MSRP", "spans": [], "disguise": None, "regions": [],
                    "details": {"ratio": round(ratio, 4), "msrp": price.get("msrp"),
                                "msrp_currency": price.get("msrp_currency")}})
    seller = signals.get("seller")
    if isinstance(seller, dict) and seller.get("status") in ("imitation", "authorized"):
        name = str(seller.get("authorized_name") or "")[:100]
        authorized = seller["status"] == "authorized"
        out.append({"signal": "authorized_seller" if authorized else "seller", "strength": 0.0,
                    "role": "limits" if authorized else "supports",
                    "reason": f"seller is the authorized seller {name}" if authorized
                    else f"seller imitates the authorized seller {name}",
                    "spans": [], "disguise": None, "regions": [], "details": {"authorized_name": name}})
    return out


def upgrade() -> None:
    with op.batch_alter_table('matches') as batch:
        batch.add_column(sa.Column('review_snapshot', sa.JSON(), nullable=True))
    connection = op.get_bind()
    if 'evidence' not in {c['name'] for c in sa.inspect(connection).get_columns('matches')}:
        # Each feature is its own branch off 0001, so on a fresh database this may run before 0007: no match
        # exists yet and nothing needs converting. A database with matches always has 0007 already (every
        # command upgrades on start) unless it was last opened before 0007: then say so, do not drop data.
        if connection.execute(sa.select(sa.func.count()).select_from(matches)).scalar():
            raise RuntimeError("matches scored before 0007_evidence: upgrade to 0007_evidence first "
                               "(alembic upgrade 0007_evidence), then to heads")
        with op.batch_alter_table('matches', recreate='never') as batch:
            batch.drop_column('signals')
        return
    for match_id, listing_id, signals, evidence in list(_rows(connection, matches.c.listing_id, matches.c.signals,
                                                                 matches.c.evidence)):
        if not isinstance(signals, dict):
            continue
        values = {}
        if isinstance(signals.get(SNAPSHOT_KEY), dict):
            values["review_snapshot"] = signals[SNAPSHOT_KEY]
        if not evidence:
            title = connection.execute(sa.select(listings.c.title).where(listings.c.id == listing_id)).scalar()
            moved = legacy_evidence(signals, title)
            if moved:
                values["evidence"] = moved
        if values:
            connection.execute(matches.update().where(matches.c.id == match_id).values(**values))
    with op.batch_alter_table('matches', recreate='never') as batch:
        batch.drop_column('signals')


def downgrade() -> None:
    with op.batch_alter_table('matches', recreate='never') as batch:
        batch.add_column(sa.Column('signals', sa.JSON(), nullable=True))
    connection = op.get_bind()
    for match_id, snapshot in list(_rows(connection, matches.c.review_snapshot)):
        signals = {SNAPSHOT_KEY: snapshot} if isinstance(snapshot, dict) else {}
        connection.execute(matches.update().where(matches.c.id == match_id).values(signals=signals))
    with op.batch_alter_table('matches', recreate='never') as batch:
        batch.drop_column('review_snapshot')
