"""Errors meant for the person at the terminal: the CLI prints them as one line, without a traceback."""


class LookalikeError(Exception):
    """A problem the user can fix (bad input, bad configuration, unreachable service)."""
