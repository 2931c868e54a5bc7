"""The ``lookalike`` command line.

:data:`COMMANDS` is the whole command tree: each command's name, where it lives (``module:attr``, loaded only
when the command runs, by :class:`cli.lazy.LazyGroup`) and its short help for ``--help``.  A new command is a
function in a ``cli/`` module and one line here.  Errors the user can fix (``LookalikeError``) are printed as
one line and exit with status 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import sys

import typer

from cli.lazy import LazyGroup, LazyMap
from core.errors import LookalikeError

#: ``{name: (target, short help)}`` (``cli/lazy.py`` describes the targets); the short help strings are the
#: commands' own first lines (tests/test_cli_startup.py checks), kept here so that ``--help`` imports nothing.
COMMANDS: LazyMap = {
    "config": ("cli.system:config",
               "Print the settings in force and where each value came from (env, file or default)."),
    "scan": ("cli.scan:scan_command",
             "Run the nightly scan once: crawl, match new and changed listings, queue suspects, print a summary."),
    "demo-takedown": ("cli.demo:demo_takedown_command",
                      "On the demo data: confirm one brand's strongest counterfeits on one marketplace, build a "
                      "takedown pack, let the demo shop remove some, recheck them, and show the outcomes."),
    "demo": ("cli.demo:demo_command",
             "Generate the demo world, serve it, import its brands, run the nightly scan, show the suspects."),
    "export": ("cli.export:export_command",
               "Export suspects or listings; text cells in CSV are neutralised against formula injection."),
    "crawl": ("cli.crawl:crawl", "Crawl and store listings; exits with status 1 when the crawl failed."),
    "match": ("cli.match:match_command",
              "Match the listings already stored against a brand (registered after the crawl) or all brands."),
    "eval": ("cli.evaluate:evaluate",
             "Score labelled demo worlds as the scan does (registry import, stored listings and images, the "
             "signature stage, the scan's matcher) and print per world and pooled: precision, recall, F1 and "
             "false-positive rate per split, recall per disguise kind, false-positive rate per negative kind, "
             "classes, a reliability table, the threshold reaching --target-precision, and a threshold sweep."),
    "serve": ("cli.serve:serve_command", "Serve the review app; log in with an account from `lookalike users add`."),
    "db": ({
        "upgrade": ("cli.system:db_upgrade", "Apply database migrations (every command does this on first use too)."),
    }, "Database maintenance."),
    "brands": ({
        "import": ("cli.brands:import_",
                   "Validate a registry file whole, then import it in one transaction and report what changed."),
        "export": ("cli.brands:export", "Write one brand as a registry file with its photos beside it; `brands "
                   "import` of it changes nothing."),
        "list": ("cli.lists:brands_list", "Show the registered brands."),
        "schema": ("cli.brands:schema", "Print the registry format as JSON Schema."),
    }, "The brand registry: what is protected."),
    "review": ({
        "list": ("cli.lists:review_list", "List matches in queue order: suspects first, each class best score first."),
        "show": ("cli.review:show_command",
                 "Show one match: the listing beside the brand's evidence, reasons, signals and history."),
        "confirm": ("cli.review:review_app:confirm",
                    "Confirm a match as infringing (status confirmed); written to the audit log."),
        "dismiss": ("cli.review:review_app:dismiss",
                    "Dismiss a match as not infringing; it returns only if the listing changes materially (status "
                    "dismissed); written to the audit log."),
        "report": ("cli.review:review_app:report",
                   "Mark a match as reported to the marketplace (status reported); written to the audit log."),
        "removed": ("cli.review:review_app:removed",
                    "Mark a reported listing as taken down (status removed); written to the audit log."),
        "reopen": ("cli.review:review_app:reopen", "Put a match back in the queue (status new); written to the audit log."),
    }, "Review suspects: list, show, confirm, dismiss, report, removed."),
    "digest": ({
        "send": ("cli.digest:send_command",
                 "Build each owner's digest of new and changed matches and deliver it exactly once."),
        "list": ("cli.digest:list_command", "The latest digests: owner, when, status, items, Message-ID."),
        "preview": ("cli.digest:preview_command",
                    "Write a digest's HTML part with its photos embedded, to open in a browser."),
    }, "Owner digests: what was found and done for each brand owner."),
    "marketplace": ({
        "serve": ("cli.marketplace:serve",
                  "Serve a demo world as several shops on 127.0.0.1, with the faults of real sites."),
    }, "The local demo marketplace."),
    "users": ({
        "add": ("cli.users:add_command", "Create an account."),
        "list": ("cli.users:list_command", "List the accounts and the brands of each owner."),
        "remove": ("cli.users:remove_command", "Delete an account (its sessions end at once)."),
        "set-password": ("cli.users:set_password_command", "Change a password (logs the user out everywhere)."),
        "invite": ("cli.users:invite_command", "Invite someone by e-mail: a single-use link (7 days) to choose a "
                   "password; owners then register brands."),
        "reset": ("cli.users:reset_command",
                  "Send a password-reset link (single use, 2 hours) to the account's e-mail address."),
    }, "Accounts of the review app: admin, analyst, owner (tied to brands)."),
    "evidence": ({
        "capture": ("cli.takedown:evidence_capture", "Capture every suspect or confirmed match that has no evidence "
                    "yet (page as WARC, images, screenshot)."),
        "verify": ("cli.takedown:evidence_verify",
                   "Re-hash every evidence file; exit 1 naming each file that changed or went missing."),
        "prune": ("cli.takedown:evidence_prune",
                  "Delete evidence of matches dismissed longer than evidence_prune_days ago."),
    }, "Evidence kept for suspects and confirmed matches: capture, verify, prune."),
    "takedown": ({
        "pack": ("cli.takedown:takedown_pack", "Write a takedown pack (notice table, statements, evidence, manifest) "
                 "and mark its matches reported."),
        "verify": ("cli.takedown:takedown_verify", "Recheck reported listings inside the verification window and "
                   "record removed / edited / still up."),
    }, "Takedown packs for the platforms' bulk-report forms."),
    "domains": ("cli.domains:domains_app", "Look-alike domains from CT logs, new-domain lists and permutations."),
    "sources": ("cli.sources:sources_app",
                "Sources: API connectors, search profiles, browser profiles and shops, with their state."),
    "networks": ("cli.networks:networks_app",
                 "Seller networks: sellers linked by shared evidence, relistings, impact."),
    "stats": ({
        "takedowns": ("cli.takedown:stats_takedowns",
                      "Reported, removed, edited, still up after the window, median time to removal."),
    }, "Figures: takedowns reported, removed, time to removal."),
}

HELP = "Brand protection for small brands: crawl shops, find counterfeits and look-alikes, review them."


class Lookalike(LazyGroup):
    """The top-level group: :data:`COMMANDS`."""

    lazy_commands = COMMANDS


def _root() -> None:
    """Brand protection for small brands: crawl shops, find counterfeits and look-alikes, review them."""


app = typer.Typer(name="lookalike", cls=Lookalike, help=HELP, callback=_root, no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        app(args=argv, standalone_mode=True)
    except LookalikeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
