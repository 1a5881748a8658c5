"""The `swarm` command line: a thin click layer over the library, the top layer.

`entry` is the console script: it hands `swarm hooks ...` to `hooks.run` without importing
click, and everything else to the click group in `main`. Each command parses its
arguments, makes one library call and renders the result.

May import: everything (`mcp`, `daemon`, `hooks`, every coordinator package, `memory`).
"""
