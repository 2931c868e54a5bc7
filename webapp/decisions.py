"""Decisions from the review app: confirm, dismiss (with a reason), report, reopen; bulk; undo.

Each decision is ``services.review.set_status`` with the logged-in user's name as the actor, so it is in
the audit log (``match_events``) with the user and the time. The last decision of a browser session
(one match, or every match of one bulk action) is kept in ``web_sessions.last_decision`` so that ``u``
can undo it, from any app process; undoing is itself a status change, audited like the others.
Matches already in the target status, or in a status the target cannot be reached from, are skipped
and counted (a bulk action never half-fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LookalikeError
from services.review import TRANSITIONS, set_status
from storage.models import Match, User, WebSession

#: Action (form value, keyboard key's meaning) -> the status it sets.
ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed", "report": "reported", "reopen": "new"}
#: The short list a dismissal picks its reason from (key 1-6 in the keyboard chooser).
DISMISS_REASONS = (
    "genuine product",
    "authorised seller",
    "unrelated product",
    "compatible accessory, not infringing",
    "parody or commentary",
    "other (see note)",
)
MAX_NOTE = 1000


@dataclass
class Done:
    #: (match id, new status) for each match that changed.
    changed: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0


def check_action(action: str) -> str:
    if action not in ACTIONS:
        raise LookalikeError(f"unknown action {action[:20]!r}: choose one of {', '.join(ACTIONS)}")
    return action


def _note(action: str, reason: str | None, note: str | None) -> str | None:
    note = (note or "").strip()[:MAX_NOTE] or None
    if action != "dismiss":
        return note
    if reason not in DISMISS_REASONS:
        raise LookalikeError("pick a reason for the dismissal from the list")
    return f"{reason}: {note}" if note else reason


def decide(session: Session, web: WebSession, user: User, match_ids: list[int], action: str, *,
           reason: str | None = None, note: str | None = None) -> Done:
    """Apply ``action`` to each match (ids already checked to be in the user's scope)."""
    target = ACTIONS[check_action(action)]
    text = _note(action, reason, note)
    statuses = dict(session.execute(select(Match.id, Match.status).where(Match.id.in_(match_ids))).all())
    done, undo = Done(), []
    for match_id in match_ids:
        current = statuses.get(match_id)
        if current is None or current == target or target not in TRANSITIONS.get(current, frozenset()):
            done.skipped += 1
            continue
        set_status(session, match_id, target, actor=user.username, note=text)
        done.changed.append((match_id, target))
        undo.append({"match_id": match_id, "from": current, "to": target})
    if undo:
        web.last_decision = undo
    return done


def undo(session: Session, web: WebSession, user: User) -> Done:
    """Put back the matches of this session's last decision that still have the status it set."""
    record = [r for r in (web.last_decision or []) if isinstance(r, dict)]
    if not record:
        raise LookalikeError("nothing to undo")
    ids = [int(r["match_id"]) for r in record]
    statuses = dict(session.execute(select(Match.id, Match.status).where(Match.id.in_(ids))).all())
    done = Done()
    for r in record:
        match_id, before, after = int(r["match_id"]), str(r["from"]), str(r["to"])
        if statuses.get(match_id) != after or before not in TRANSITIONS.get(after, frozenset()):
            done.skipped += 1
            continue
        set_status(session, match_id, before, actor=user.username, note=f"undo: back from {after}")
        done.changed.append((match_id, before))
    web.last_decision = []
    return done
