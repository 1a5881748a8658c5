"""Every command has help.

The click tree is walked from `coordinator.cli.main.cli`; the hooks come from the argparse
runner behind `swarm hooks` (`hooks.argparser.build_parser`), so a new command cannot be
added without help text. That each is documented is tests/docs' concern.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from coordinator.cli.main import cli
from hooks.argparser import build_parser
from tests.integration.conftest import Project

#: Commands whose arguments (including --help) are handed to the argparse hook runner.
HOOK_PASSTHROUGH = {"hooks", "session-restore"}


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command under `group`, groups included."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    """The click command at `path` under `cli`."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def hook_parsers() -> dict[str, argparse.ArgumentParser]:
    """The sub-command parsers of `swarm hooks`, by name."""
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("swarm hooks has no sub-commands")


COMMANDS = list(walk(cli))
HOOKS = sorted(hook_parsers())


def test_the_tree_is_not_empty() -> None:
    # Guards the parametrised tests below against silently testing nothing.
    assert ("memory", "put") in COMMANDS
    assert "pre-task" in HOOKS


def test_swarm_help() -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="swarm")

    assert result.exit_code == 0, result.output
    assert cli.help
    assert cli.help.splitlines()[0] in result.output
    for name in cli.commands:
        assert name in result.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    command = command_at(path)
    assert command.get_short_help_str(limit=200).strip(), f"swarm {' '.join(path)} has no help"

    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="swarm")

    assert result.exit_code == 0, result.output
    if path[0] in HOOK_PASSTHROUGH:
        assert result.output.startswith("usage: swarm hooks")
    else:
        assert result.output.startswith(f"Usage: swarm {' '.join(path)} ")
        assert command.get_short_help_str(limit=40).rstrip(".")[:30] in result.output
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.opts[0] in result.output


def test_the_console_script_shows_help(project: Project) -> None:
    result = project.ok("--help")

    assert result.stdout.startswith("Usage: swarm ")
    assert result.stderr == ""


def test_swarm_hooks_help(project: Project) -> None:
    result = project.ok("hooks", "--help")

    description = build_parser().description
    assert description
    assert description in " ".join(result.stdout.split())
    for name in HOOKS:
        assert name in result.stdout


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_help(project: Project, hook: str) -> None:
    parser = hook_parsers()[hook]
    assert parser.description, f"swarm hooks {hook} has no description"

    result = project.ok("hooks", hook, "--help")

    assert result.stdout.startswith(f"usage: swarm hooks {hook}")
    assert parser.description in " ".join(result.stdout.split())
    assert result.stderr == ""
