"""The words the database stores in its status and role columns, defined once.

Plain tuples, no SQLAlchemy: ``storage.models`` declares its columns with them, and the faces (the CLI's
``--help``, the review app's filters) and the services import them from here, so that a face can name them
without loading the ORM.  The match classes (``counterfeit`` ... ``clean``) belong to matching:
``matching.model.CLASSES``.
"""

from __future__ import annotations

#: Review statuses of a match, in the order the review app lists them; ``new`` is set by the scan, the others
#: by analysts (``services.review.TRANSITIONS`` says which moves are allowed).
MATCH_STATUSES: tuple[str, ...] = ("new", "confirmed", "dismissed", "reported", "removed")
#: Statuses in which an analyst has upheld a match as infringing (evidence is kept, a seller counts as a
#: repeat offender, calibration counts a true positive).
UPHELD_STATUSES: tuple[str, ...] = ("confirmed", "reported", "removed")
#: Listing statuses: ``active`` while seen by crawls, ``gone`` after ``gone_after_runs`` misses.
LISTING_STATUSES: tuple[str, ...] = ("active", "gone")
#: Status of an ``image_signatures`` row: ``ok`` (fields set) or ``failed`` (``error`` says why).
SIGNATURE_STATUSES: tuple[str, ...] = ("ok", "failed")
#: Delivery states of a digest: ``reserved`` (Message-ID taken, nothing handed to SMTP yet), ``sending``
#: (the message is being handed over), ``sent``, ``written`` (saved as an .eml file), ``failed`` (not
#: delivered: its items wait for the next digest), ``unconfirmed`` (a run died while handing it over; it
#: may have arrived and is never sent again automatically).
DIGEST_STATUSES: tuple[str, ...] = ("reserved", "sending", "sent", "written", "failed", "unconfirmed")
#: Roles of a review-app account: ``admin`` (everything, manages accounts), ``analyst`` (every brand),
#: ``owner`` (only the brands in ``user_brands``).
USER_ROLES: tuple[str, ...] = ("admin", "analyst", "owner")
#: What an e-mailed single-use link is for: a new account, or a new password for an existing one.
INVITATION_PURPOSES: tuple[str, ...] = ("invite", "reset")
#: Roles that see every brand and decide on matches (an ``owner`` only looks at its own brands).
STAFF_ROLES: frozenset[str] = frozenset({"admin", "analyst"})
