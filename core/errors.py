"""Errors meant for the person at the terminal: the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class LookalikeError(Exception):
    """A problem the user can fix (bad input, bad configuration, unreachable service)."""


def first_line(error: BaseException | str, limit: int | None = None) -> str:
    """The first non-blank line of an error's message (at most ``limit`` characters), or the exception's type
    name when its message is empty: what a one-line report of a library's error shows."""
    text = str(error).strip()
    line = text.splitlines()[0].strip() if text else ""
    if not line:
        line = type(error).__name__ if isinstance(error, BaseException) else ""
    return line[:limit] if limit is not None else line
