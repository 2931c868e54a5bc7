"""Owner digests: what each brand owner hears about its brands, delivered exactly once.

One digest per owner holds only that owner's brands' matches (a listing matched by two owners' brands
is in each owner's digest with that owner's match only).  It reports every match whose state the owner
has not heard of yet:

- ``new``: a suspect the owner never heard of, if it passes the owner's preferences (``min_score``,
  ``classes``; dismissed matches the owner never heard of are left out);
- ``class`` / ``score``: the class changed, or the score moved by ``digest_score_change`` or more;
- ``confirmed``, ``reported``, ``removed``, ``dismissed``, ``reopened``: an analyst (or the recheck)
  moved a match the owner heard of, or one it hears of for the first time in that status.

**What the owner has heard of** is the state each delivered digest recorded per match in
``digest_items`` (status, class, score).  The next digest compares the matches' current state with the
last state recorded, so nothing depends on clocks agreeing and nothing is reported twice.

**Exactly once.**  For each owner a run (1) plans the items, (2) *reserves* the owner's next digest: a
``digests`` row with the next ``sequence`` (unique per owner, so two runs cannot both build it), the
Message-ID and the items, committed, (3) marks it ``sending`` just before the message is handed to SMTP,
(4) marks it ``sent``.  A digest counts as heard once it is ``sending``, ``sent``, ``written`` or
``unconfirmed``; a ``failed`` one does not, so its items go into the next digest.  A run that finds a
``reserved`` or ``sending`` row whose lease (``digest_lease_seconds``) is still running skips the owner;
after the lease a ``reserved`` row becomes ``failed`` (nothing was handed over) and a ``sending`` row
becomes ``unconfirmed`` (it may have arrived; it is never re-sent automatically).  SMTP refusals are
retried ``smtp_retries`` times with backoff in the same run; after that the digest is ``failed``.

Frequency: a ``daily`` owner gets at most one digest per 20 hours, a ``weekly`` one per 6 days 20 hours
(four hours of slack for nightly runs that start late); an owner whose digest is off gets none, an owner
with nothing new gets none.  The format of the message is in :mod:`services.digestmail`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from core.errors import LookalikeError
from core.settings import Settings
from core.text import one_line
from core.times import as_utc
from matching.model import CLEAN_CLASSES
from services import charts, networks
from services.dashboard import build_dashboard
from services.digestmail import (
    ChartView,
    DigestContent,
    DomainView,
    ItemView,
    build_message,
    eml_name,
    item_view,
)
from services.mailer import DeliveryInDoubt, NotDelivered, smtp_send, write_eml
from storage.db import Database, insert_or_ignore
from storage.imagestore import ImageStore
from storage.models import Brand, Digest, DigestItem, DomainCandidate, Listing, Match, Owner, Product, utcnow

#: Digest states whose items the owner has heard of.
HEARD = ("sending", "sent", "written", "unconfirmed")
#: States of a digest still being delivered by some run.
IN_FLIGHT = ("reserved", "sending")
#: Least time between two digests of an owner, by frequency.
PERIODS = {"daily": dt.timedelta(hours=20), "weekly": dt.timedelta(days=6, hours=20)}
#: Statuses an analyst sets; a match entering one is reported under that name.
STATUS_CHANGES = {"confirmed": "confirmed", "reported": "reported", "removed": "removed",
                  "dismissed": "dismissed", "new": "reopened"}
#: Order of the change kinds in counts and in the digest.
CHANGE_KINDS = ("new", "reopened", "class", "score", "confirmed", "reported", "removed", "dismissed")


@dataclass(frozen=True)
class Heard:
    """The state of a match as the owner's last delivered digest reported it."""

    status: str
    klass: str
    score: float


@dataclass
class OwnerResult:
    """What a run did for one owner: ``outcome`` is ``sent``, ``written``, ``skipped``, ``failed`` or
    ``unconfirmed`` (or ``planned`` in a dry run)."""

    owner: str
    outcome: str
    reason: str = ""
    items: int = 0
    digest_id: int | None = None
    message_id: str | None = None
    path: str | None = None
    recipients: list[str] = field(default_factory=list)


@dataclass
class DigestRun:
    """All owners' results of one run; ``counts`` maps outcome -> number of owners."""

    results: list[OwnerResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in ("sent", "written", "skipped", "failed", "unconfirmed", "planned")}
        for r in self.results:
            out[r.outcome] = out.get(r.outcome, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "results": [asdict(r) for r in self.results]}

    def lines(self) -> list[str]:
        """One line per owner and a total, for the CLI and the run log."""
        out = []
        for r in self.results:
            where = f" -> {r.path}" if r.path else (f" to {', '.join(r.recipients)}" if r.recipients else "")
            why = f" ({r.reason})" if r.reason else ""
            out.append(f"{one_line(r.owner, 80)}: {r.outcome}, {r.items} item(s){where}{why}")
        c = self.counts
        out.append(f"digests: {c['sent']} sent, {c['written']} written, {c['skipped']} skipped, "
                   f"{c['failed']} failed" + (f", {c['unconfirmed']} unconfirmed" if c["unconfirmed"] else "")
                   + (f", {c['planned']} planned (dry run)" if c["planned"] else ""))
        return out


# ------------------------------------------------------------------------------------------ planning


def heard_states(session: Session, owner_id: int) -> dict[int, Heard]:
    """match id -> the state the owner's latest heard digest reported for it."""
    rows = session.execute(
        select(DigestItem.match_id, DigestItem.status, DigestItem.klass, DigestItem.score)
        .join(Digest, Digest.id == DigestItem.digest_id)
        .where(Digest.owner_id == owner_id, Digest.status.in_(HEARD))
        .order_by(Digest.sequence)
    )
    return {match_id: Heard(status, klass, score) for match_id, status, klass, score in rows}


def change_of(match: Match, heard: Heard | None, owner: Owner, *, score_step: float) -> str | None:
    """Why ``match`` belongs in the owner's next digest (one of :data:`CHANGE_KINDS`), or None."""
    if heard is None:
        if match.status == "dismissed":
            return None
        if match.klass in CLEAN_CLASSES or not passes_preferences(match, owner):
            return None
        return "new" if match.status == "new" else STATUS_CHANGES.get(match.status, "new")
    if match.status != heard.status:
        return STATUS_CHANGES.get(match.status, match.status)
    if match.klass != heard.klass:
        return "class"
    if abs(match.score - heard.score) >= score_step - 1e-9:
        return "score"
    return None


def passes_preferences(match: Match, owner: Owner) -> bool:
    """The owner's ``min_score`` and ``classes`` (empty: every class) admit this match as a new item."""
    if owner.digest_min_score is not None and match.score < owner.digest_min_score:
        return False
    return not owner.digest_classes or match.klass in owner.digest_classes


def recipients_of(owner: Owner) -> list[str]:
    """Every ``digest_to`` address of the owner's brands, each once, sorted."""
    return sorted({addr.strip() for brand in owner.brands for addr in (brand.digest_to or []) if addr.strip()})


@dataclass
class Plan:
    owner_id: int
    owner: str
    recipients: list[str]
    last_sequence: int
    period_start: dt.datetime | None
    items: list[tuple[Match, str, Heard | None]] = field(default_factory=list)
    domains: list[DomainCandidate] = field(default_factory=list)
    skip: str = ""


def _last_heard(session: Session, owner_id: int) -> Digest | None:
    return session.scalars(
        select(Digest).where(Digest.owner_id == owner_id, Digest.status.in_(HEARD))
        .order_by(Digest.sequence.desc()).limit(1)
    ).first()


def _settle_stale(session: Session, owner_id: int, now: dt.datetime) -> str:
    """Close the owner's digests whose run died (see the module docstring); returns a skip reason when a
    live run is delivering one."""
    busy = ""
    for digest in session.scalars(select(Digest).where(Digest.owner_id == owner_id,
                                                       Digest.status.in_(IN_FLIGHT)).with_for_update()):
        if as_utc(digest.lease_until) > now:
            busy = f"digest {digest.sequence} is being delivered by another run"
        elif digest.status == "reserved":
            digest.status, digest.error = "failed", "interrupted before it was handed to SMTP"
        else:
            digest.status = "unconfirmed"
            digest.error = "interrupted while it was handed to SMTP: it may have arrived; not sent again"
    return busy


def plan_owner(session: Session, owner: Owner, settings: Settings, *, now: dt.datetime,
               force: bool = False) -> Plan:
    """The owner's next digest: its items (strongest first) or why it is skipped."""
    last_sequence = session.scalar(select(func.max(Digest.sequence)).where(Digest.owner_id == owner.id)) or 0
    last = _last_heard(session, owner.id)
    plan = Plan(owner_id=owner.id, owner=owner.name, recipients=recipients_of(owner),
                last_sequence=last_sequence, period_start=as_utc(last.built_at) if last else None)
    if owner.digest_enabled is False:
        plan.skip = "digest switched off"
        return plan
    period = PERIODS.get(owner.digest_frequency or "daily", PERIODS["daily"])
    if last is not None and not force and now - as_utc(last.built_at) < period:
        plan.skip = f"not due ({owner.digest_frequency}; last digest {as_utc(last.built_at):%Y-%m-%d %H:%M} UTC)"
        return plan
    heard = heard_states(session, owner.id)
    matches = session.scalars(
        select(Match).join(Brand, Brand.id == Match.brand_id).where(Brand.owner_id == owner.id)
        .options(selectinload(Match.listing).selectinload(Listing.marketplace),
                 selectinload(Match.listing).selectinload(Listing.images),
                 selectinload(Match.brand).selectinload(Brand.products).selectinload(Product.images),
                 selectinload(Match.product).selectinload(Product.images))
        .order_by(Match.score.desc(), Match.id)
    )
    for match in matches:
        previous = heard.get(match.id)
        change = change_of(match, previous, owner, score_step=settings.digest_score_change)
        if change is not None:
            plan.items.append((match, change, previous))
    plan.domains = new_domains(session, owner.id, since=plan.period_start, limit=settings.digest_max_items)
    if not plan.items and not plan.domains:
        plan.skip = "nothing new"
    elif not plan.recipients:
        plan.skip = "no digest_to address on any of its brands"
    return plan


def new_domains(session: Session, owner_id: int, *, since: dt.datetime | None, limit: int) -> list[DomainCandidate]:
    """The owner's look-alike domains first seen after its last heard digest (all, for a first digest), not
    dismissed, best score first."""
    query = (select(DomainCandidate).join(Brand, Brand.id == DomainCandidate.brand_id)
             .where(Brand.owner_id == owner_id, DomainCandidate.status != "dismissed")
             .options(selectinload(DomainCandidate.brand)))
    if since is not None:
        query = query.where(DomainCandidate.first_seen > since)
    return list(session.scalars(query.order_by(DomainCandidate.score.desc(), DomainCandidate.id).limit(limit)))


def domain_view(candidate: DomainCandidate, settings: Settings) -> DomainView:
    return DomainView(domain=one_line(candidate.domain, 253), ascii_domain=candidate.ascii_domain,
                      brand=candidate.brand.name, score=candidate.score, kind=candidate.kind,
                      feeds=tuple(candidate.feeds), reasons=tuple(one_line(r, 300) for r in candidate.reasons[:4]),
                      review_href=f"{settings.review_url.rstrip('/')}/domains/{candidate.id}")


# ------------------------------------------------------------------------------------------ the run


def _content(plan: Plan, settings: Settings, store: ImageStore, session: Session,
             now: dt.datetime) -> DigestContent:
    items: list[ItemView] = [item_view(m, change, prev, settings=settings, store=store)
                             for m, change, prev in plan.items]
    open_counts = dict(session.execute(
        select(Brand.name, func.count(Match.id)).join(Match, Match.brand_id == Brand.id)
        .where(Brand.owner_id == plan.owner_id, Match.status == "new").group_by(Brand.name)
    ).all())
    brands = list(session.scalars(select(Brand.name).where(Brand.owner_id == plan.owner_id).order_by(Brand.name)))
    network_lines, relisting_lines = networks.digest_lines(
        session, session.scalars(select(Brand.id).where(Brand.owner_id == plan.owner_id)), since=plan.period_start)
    return DigestContent(owner=plan.owner, items=items, period_start=plan.period_start, built_at=now,
                         open_per_brand={b: int(open_counts.get(b, 0)) for b in brands},
                         review_url=settings.review_url, max_items=settings.digest_max_items,
                         domains=[domain_view(c, settings) for c in plan.domains],
                         charts=digest_charts(session, plan.owner_id, settings=settings, now=now),
                         networks=network_lines, relistings=relisting_lines)


def digest_charts(session: Session, owner_id: int, *, settings: Settings, now: dt.datetime) -> list[ChartView]:
    """The owner's dashboard charts (its brands only) as PNGs for the head of its digest; charts with
    nothing in the period are left out."""
    brand_ids = frozenset(session.scalars(select(Brand.id).where(Brand.owner_id == owner_id)))
    board = build_dashboard(session, brand_ids, now=now)
    token = secrets.token_hex(6)
    base = settings.review_url.rstrip("/") if settings.review_url else ""
    # A chart with nothing in the period is left out of the mail (the dashboard still shows it, saying so).
    return [ChartView(name=t.name, title=t.title, png=charts.draw(t, "png"), cid=f"chart-{t.name}.{token}@lookalike",
                      numbers_href=f"{base}/dashboard/{t.name}.csv" if base else "")
            for t in board.tables if t.rows]


def _update(database: Database, digest_id: int, **values: Any) -> None:
    with database.session() as session:
        session.execute(update(Digest).where(Digest.id == digest_id).values(**values))


def _reserve(database: Database, plan: Plan, content: DigestContent, *, message_id: str, delivery: str,
             now: dt.datetime, settings: Settings) -> int | None:
    """Insert the owner's next digest row with its items; None when another run took that sequence."""
    with database.session() as session:
        digest_id = insert_or_ignore(session, Digest, {
            "owner_id": plan.owner_id, "sequence": plan.last_sequence + 1, "message_id": message_id,
            "status": "reserved", "delivery": delivery, "recipients": plan.recipients,
            "period_start": plan.period_start, "built_at": now,
            "lease_until": now + dt.timedelta(seconds=settings.digest_lease_seconds), "attempts": 0,
            "counts": content.counts(), "error": None, "path": None, "delivered_at": None,
        }, conflict=["owner_id", "sequence"])
        if digest_id is None:
            return None
        for match, change, _prev in plan.items:
            session.add(DigestItem(digest_id=digest_id, match_id=match.id, change=change, status=match.status,
                                   klass=match.klass, score=float(match.score)))
    return digest_id


def _deliver_smtp(database: Database, settings: Settings, digest_id: int, message: Any,
                  recipients: list[str], sleep: Callable[[float], None], logger: Any) -> tuple[str, str]:
    """Send with retries; returns (outcome, reason) and leaves the row in its final state."""
    delay = settings.smtp_retry_delay
    attempts = 0
    while True:
        attempts += 1
        _update(database, digest_id, attempts=attempts,
                lease_until=utcnow() + dt.timedelta(seconds=settings.digest_lease_seconds))
        try:
            smtp_send(settings, message, recipients,
                      before_data=lambda: _update(database, digest_id, status="sending"))
        except DeliveryInDoubt as exc:
            _update(database, digest_id, status="unconfirmed", error=str(exc)[:500])
            return "unconfirmed", str(exc)
        except NotDelivered as exc:
            _update(database, digest_id, status="reserved", error=str(exc)[:500])
            if not exc.transient or attempts > settings.smtp_retries:
                _update(database, digest_id, status="failed")
                return "failed", f"{exc} (after {attempts} attempt(s))"
            if logger:
                logger.warning("digest %s: %s; retrying in %.0f s", digest_id, exc, delay)
            sleep(delay)
            delay *= 2
            continue
        _update(database, digest_id, status="sent", delivered_at=utcnow(), error=None)
        return "sent", ""


def send_digests(
    database: Database,
    settings: Settings,
    *,
    owner: str | None = None,
    dry_run: bool = False,
    out_dir: Path | None = None,
    force: bool = False,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    logger: Any = None,
) -> DigestRun:
    """Build and deliver every owner's digest (or only ``owner``'s, by name); see the module docstring.

    Delivery is SMTP when ``smtp_host`` is set and ``out_dir`` is not; otherwise an ``.eml`` file in
    ``out_dir`` or ``settings.digests_folder``.  ``dry_run`` records nothing and sends nothing (with
    ``out_dir`` it writes the messages there).  ``force`` ignores the owners' frequency.  ``now`` (UTC)
    is for tests; ``sleep`` is called between SMTP retries.
    """
    now = as_utc(now) or utcnow()
    store = ImageStore.from_settings(settings)
    delivery = "smtp" if settings.smtp_host and out_dir is None else "file"
    folder = Path(out_dir) if out_dir is not None else settings.digests_folder
    run = DigestRun()
    with database.session() as session:
        stmt = select(Owner).options(selectinload(Owner.brands)).order_by(Owner.name)
        if owner is not None:
            stmt = stmt.where(func.lower(Owner.name) == owner.strip().lower())
        owners = [(o.id, o.name) for o in session.scalars(stmt)]
    if owner is not None and not owners:
        raise LookalikeError(f"no owner named {owner!r}")
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    for owner_id, owner_name in owners:
        with database.session() as session:
            busy = "" if dry_run else _settle_stale(session, owner_id, now)
        with database.session() as session:
            owner_row = session.get(Owner, owner_id, options=[selectinload(Owner.brands)])
            assert owner_row is not None
            plan = plan_owner(session, owner_row, settings, now=now, force=force)
            if busy:
                plan.skip = busy
            if plan.skip:
                run.results.append(OwnerResult(owner_name, "skipped", plan.skip, recipients=plan.recipients))
                continue
            content = _content(plan, settings, store, session, now)
        message_id = make_msgid(idstring=f"digest{owner_id}.{plan.last_sequence + 1}", domain=domain)
        message = build_message(content, settings=settings, recipients=plan.recipients, message_id=message_id)
        name = eml_name(owner_name, plan.last_sequence + 1, now)
        result = OwnerResult(owner_name, "planned", items=len(plan.items), message_id=message_id,
                             recipients=plan.recipients)
        if dry_run:
            if out_dir is not None:
                result.path = str(write_eml(message, folder, name))
            run.results.append(result)
            continue
        digest_id = _reserve(database, plan, content, message_id=message_id, delivery=delivery, now=now,
                             settings=settings)
        if digest_id is None:
            run.results.append(OwnerResult(owner_name, "skipped", "another run built this digest"))
            continue
        result.digest_id = digest_id
        if delivery == "file":
            try:
                path = write_eml(message, folder, name)
            except LookalikeError as exc:
                _update(database, digest_id, status="failed", error=str(exc)[:500])
                result.outcome, result.reason = "failed", str(exc)
            else:
                _update(database, digest_id, status="written", path=str(path), delivered_at=utcnow())
                result.outcome, result.path = "written", str(path)
        else:
            result.outcome, result.reason = _deliver_smtp(database, settings, digest_id, message,
                                                          plan.recipients, sleep, logger)
        if logger:
            logger.info("digest for %s: %s, %d item(s)", one_line(owner_name, 80), result.outcome, result.items)
        run.results.append(result)
    return run


def list_digests(session: Session, *, owner: str | None = None, limit: int = 50) -> list[Digest]:
    """The latest digests, newest first (``lookalike digest list``)."""
    stmt = select(Digest).join(Owner, Owner.id == Digest.owner_id).order_by(Digest.built_at.desc(), Digest.id.desc())
    if owner is not None:
        stmt = stmt.where(func.lower(Owner.name) == owner.strip().lower())
    return list(session.scalars(stmt.limit(limit)))
