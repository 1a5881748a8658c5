"""The coordinator: plans, tasks, claims, agents, git, the daemon and the views over the store.

One subpackage per concern; at this root only what all of them share: the errors
(`errors`), the key layout (`layout`), the coordinator's records and the operations that
write them (`state`), where the project lives (`project`), how times are written
(`timefmt`) and building many objects at once (`bulk`).

Imports run downward only (checked by `lint-imports`, see `[tool.importlinter]` in
pyproject.toml): `cli` above `mcp` and `daemon`, those above `hooks`, then `views`, `git`,
`tasks`, `claims`, `plans` and `agents`, this root, and `memory` at the bottom.

May import (these root modules): each other and `memory`; never a package of their own
parent.
"""
