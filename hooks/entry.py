"""The `swarm` console script. Kept tiny: agent hooks must not pay for importing click."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch `swarm hooks ...` to the fast hook runner, everything else to the click CLI."""
    args = sys.argv[1:] if argv is None else argv
    from coordinator.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
