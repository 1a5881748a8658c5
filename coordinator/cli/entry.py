"""The `swarm` console script. Kept tiny: agent hooks must not pay for importing click."""

from __future__ import annotations

import sys

#: Commands served by the fast argparse runner in `hooks.run` (no click import).
FAST_ALIASES = {"session-restore": ["session-restore"]}


def _split_db(args: list[str]) -> tuple[list[str], list[str]]:
    """Split leading global `--db PATH` / `--db=PATH` options from the command."""
    head: list[str] = []
    rest = list(args)
    while rest:
        if rest[0] == "--db" and len(rest) > 1:
            head, rest = [*head, "--db", rest[1]], rest[2:]
        elif rest[0].startswith("--db="):
            head, rest = [*head, rest[0]], rest[1:]
        else:
            break
    return head, rest


def main(argv: list[str] | None = None) -> int:
    """Dispatch `swarm hooks ...` to the fast hook runner, everything else to the click CLI."""
    args = sys.argv[1:] if argv is None else argv
    head, rest = _split_db(args)
    if rest and (rest[0] == "hooks" or rest[0] in FAST_ALIASES):
        from hooks.run import main as hooks_main

        command = rest[1:] if rest[0] == "hooks" else [*FAST_ALIASES[rest[0]], *rest[1:]]
        return hooks_main([*head, *command])
    from coordinator.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
