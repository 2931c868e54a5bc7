"""Operator alerts: a night that could not crawl a site, and a brand whose new suspects spike.

Rules (``docs/digests.md`` tells them to operators):

- **Crawl failure.**  A crawl of the nightly scan that ended ``failed`` (connection refused, every
  request failed, no page fetched, robots denying everything... the crawl states its cause in
  ``stats.error``) is a site failure.  The scan still stores and matches what the other sites gave, and
  then its flow run ends **Failed** with a message naming each failed site and its cause
  (:class:`ScanFailed` carries the summary), and the operators get an alert.
- **Suspect spike** (``spike_window_nights``, ``spike_factor``, ``spike_min_new``).  A brand whose new
  suspects tonight are at least ``spike_min_new`` *and* at least ``spike_factor`` times its average of
  new suspects per night over the ``spike_window_nights`` nights before tonight (the average taken as at
  least 1) gets a spike alert.  A brand registered less than the window ago has no recent average
  and is never a spike (its first scans find everything at once).

Alerts go to ``alert_to`` through the SMTP server, or are written as ``.eml`` files into
``<digests_folder>/alerts`` when no SMTP server is configured.  Every text in an alert is one bounded line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from core.settings import Settings
from core.text import one_line
from core.times import as_utc
from services.mailer import DeliveryInDoubt, NotDelivered, smtp_send, write_eml
from services.scan import CrawlOutcome, ScanSummary
from storage.db import Database
from storage.models import Brand, Match, utcnow

MAX_CAUSE = 300


class ScanFailed(LookalikeError):
    """The nightly scan could not crawl one or more sites; ``summary`` is the scan's summary (a dict)."""

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass(frozen=True)
class SiteFailure:
    site: str
    cause: str


@dataclass(frozen=True)
class Spike:
    brand: str
    tonight: int
    average: float


@dataclass(frozen=True)
class ScanAlerts:
    """What :func:`alert_after_scan` found and did: failed sites, spiking brands, and where the alert
    went (None: nothing to alert)."""

    failures: list[SiteFailure]
    spikes: list[Spike]
    delivery: str | None = None


def alert_after_scan(database: Database, settings: Settings, summary: ScanSummary, *, started: dt.datetime,
                     logger: Any = None) -> ScanAlerts:
    """The nightly scan's last check: each site that could not be crawled and each brand whose new
    suspects spike (since ``started``, when the scan began) is logged, and one alert goes to the operators
    when there is any (:func:`deliver_alert`: never raises for a delivery problem)."""
    failures = crawl_failures(summary.crawls)
    tonight = {brand: counts.get("new", 0) for brand, counts in summary.per_brand.items()}
    with database.session() as session:
        spiked = spikes(session, tonight, before=started, settings=settings)
    if logger:
        for failure in failures:
            logger.error("site %s could not be crawled: %s", failure.site, failure.cause)
        for spike in spiked:
            logger.warning("suspect spike for %s: %d new tonight, %.2f per night before", spike.brand,
                           spike.tonight, spike.average)
    if not failures and not spiked:
        return ScanAlerts(failures, spiked)
    message = alert_message(settings, scan_id=summary.scan_id, failures=failures, spiked=spiked)
    delivery = deliver_alert(settings, message, logger=logger)
    if logger:
        logger.warning("operator alert %s", delivery)
    return ScanAlerts(failures, spiked, delivery)


def crawl_failures(crawls: Sequence[CrawlOutcome]) -> list[SiteFailure]:
    """The crawls of a scan (``ScanSummary.crawls``) that did not finish, with their causes."""
    failures = []
    for crawl in crawls:
        if crawl.finished:
            continue
        cause = crawl.stats.error or crawl.stats.finish_reason or f"crawl {crawl.status or 'failed'}"
        site = crawl.marketplace or crawl.target or "unknown site"
        failures.append(SiteFailure(one_line(str(site), 200), one_line(str(cause), MAX_CAUSE)))
    return failures


def failure_reason(failures: Sequence[SiteFailure]) -> str:
    """``could not crawl 2 site(s): shop-a (connection refused); shop-b (...)`` - the Failed state's message."""
    parts = "; ".join(f"{f.site} ({f.cause})" for f in failures)
    return one_line(f"could not crawl {len(failures)} site(s): {parts}", 2000)


def spikes(session: Session, tonight: dict[str, int], *, before: dt.datetime, settings: Settings) -> list[Spike]:
    """Brands whose ``tonight`` new suspects (brand name -> count) spike (see the module docstring).

    ``before`` is when tonight's scan started: the window is the ``spike_window_nights`` days before it.
    """
    before = as_utc(before) or utcnow()
    window = dt.timedelta(days=settings.spike_window_nights)
    out = []
    for name, count in sorted(tonight.items()):
        if count < settings.spike_min_new:
            continue
        brand = session.scalar(select(Brand).where(Brand.name == name))
        if brand is None or as_utc(brand.created_at) > before - window:
            continue
        earlier = session.scalar(select(func.count(Match.id)).where(
            Match.brand_id == brand.id, Match.created_at >= before - window, Match.created_at < before)) or 0
        average = earlier / settings.spike_window_nights
        if count >= settings.spike_factor * max(average, 1.0):
            out.append(Spike(brand=one_line(name, 200), tonight=count, average=round(average, 2)))
    return out


def alert_message(settings: Settings, *, scan_id: str, failures: Sequence[SiteFailure],
                  spiked: Sequence[Spike], now: dt.datetime | None = None) -> EmailMessage:
    """One plain-text alert for tonight's scan."""
    now = as_utc(now) or utcnow()
    what = []
    if failures:
        what.append(f"{len(failures)} site(s) could not be crawled")
    if spiked:
        what.append(f"suspect spike for {', '.join(s.brand for s in spiked)}")
    lines = [f"Lookalike nightly scan {scan_id}", ""]
    if failures:
        lines += ["Sites that could not be crawled (the other sites were stored and matched):"]
        lines += [f"  - {f.site}: {f.cause}" for f in failures]
        lines.append("")
    if spiked:
        lines += [f"New suspects well above the recent average (rule: at least {settings.spike_min_new} new and "
                  f"{settings.spike_factor:g} x the average of the last {settings.spike_window_nights} nights):"]
        lines += [f"  - {s.brand}: {s.tonight} new tonight, {s.average:g} per night before" for s in spiked]
        lines.append("")
    lines.append(f"Review queue: {settings.review_url}")
    msg = EmailMessage()
    msg["Subject"] = one_line(f"Lookalike alert: {'; '.join(what)}", 200)
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(settings.alert_to) or "operators"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(idstring="alert", domain=settings.smtp_from.rpartition("@")[2] or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(lines) + "\n")
    return msg


def deliver_alert(settings: Settings, message: EmailMessage, *, logger: Any = None) -> str:
    """Send the alert to ``alert_to`` (SMTP, one retry per ``smtp_retries``) or write it as an .eml file;
    returns where it went, in words.  Never raises for a delivery problem: the alert is also in the log."""
    if settings.smtp_host and settings.alert_to:
        error = ""
        for _attempt in range(settings.smtp_retries + 1):
            try:
                smtp_send(settings, message, settings.alert_to)
                return f"sent to {', '.join(settings.alert_to)}"
            except DeliveryInDoubt as exc:
                return f"may have been sent to {', '.join(settings.alert_to)} ({exc})"
            except NotDelivered as exc:
                error = str(exc)
                if not exc.transient:
                    break
        if logger:
            logger.error("alert not delivered: %s", error)
        return f"not delivered: {error}"
    if settings.smtp_host and logger:
        logger.warning("no alert_to address: the alert is only written to a file")
    folder: Path = settings.digests_folder / "alerts"
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    try:
        path = write_eml(message, folder, f"alert-{stamp}-{make_msgid()[1:9]}.eml")
    except LookalikeError as exc:
        return f"not written: {exc}"
    return f"written to {path}"
