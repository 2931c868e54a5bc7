"""Commands loaded on use: the one mechanism that keeps ``lookalike`` quick to start.

Click's documentation shows it ("Lazily Loading Subcommands"): a group that knows each command's import path
and imports the module only when that command runs.  ``lookalike --help`` (and ``lookalike review --help``)
list the names and short help strings kept in the map, without importing any command module, so each module
may import what it needs at its top, and a command pays only for its own libraries.

A map is ``{name: (target, short help)}``; a target is

- ``"module:attr"``: a Typer app (a group, or an app of one command), a click command, or a plain function
  turned into a command the way ``@app.command()`` would;
- ``"module:attr:command"``: one command of the Typer app ``attr`` (so one module can hold a group's commands
  while the group lists them without importing it);
- a nested map ``{...}``: a group of its own, loaded the same way (``review``: ``list`` reads through Core,
  ``show`` through the ORM, each from its own module).

``tests/test_cli_startup.py`` checks that every entry loads, that its short help is the command's own, and
that ``--help`` imports no command module.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Union

import typer
from typer.core import TyperCommand, TyperGroup

#: ``{name: (target, short help)}``: a target is ``"module:attr"``, ``"module:attr:command"`` or a nested map.
LazyMap = Mapping[str, tuple[Union[str, "LazyMap"], str]]


class LazyGroup(TyperGroup):
    """A group whose commands are imported on first use; ``--help`` shows the map's short help instead."""

    #: The commands of this group (a subclass sets it, or pass ``lazy_commands=``).
    lazy_commands: LazyMap = {}

    def __init__(self, *args: Any, lazy_commands: LazyMap | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lazy_commands is not None:
            self.lazy_commands = lazy_commands
        self._listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in self.lazy_commands if name not in self.commands)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | None:
        if cmd_name in self.commands or cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        target, short_help = self.lazy_commands[cmd_name]
        if self._listing:  # the help page: the name and short help are all it shows
            return TyperCommand(cmd_name, short_help=short_help, help=short_help)
        command = load(cmd_name, target, short_help)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load(name: str, target: str | LazyMap, short_help: str) -> TyperCommand:
    """The click command ``target`` names (see the module docstring)."""
    if not isinstance(target, str):
        return LazyGroup(name=name, help=short_help, lazy_commands=target, no_args_is_help=True)
    module_name, _, rest = target.partition(":")
    attr, _, command_name = rest.partition(":")
    found = getattr(importlib.import_module(module_name), attr)
    if isinstance(found, typer.Typer):
        command = typer.main.get_command(found)
        # completion is the top-level app's business (it has none): a module's own Typer adds these options
        command.params = [p for p in command.params if p.name not in ("install_completion", "show_completion")]
        if command_name:
            assert isinstance(command, TyperGroup), target
            command = command.commands[command_name]
    elif isinstance(found, TyperCommand | TyperGroup):
        command = found
    else:  # a plain function: a one-command app
        app = typer.Typer(add_completion=False)
        app.command(name)(found)
        command = typer.main.get_command(app)
    command.name = name
    return command
