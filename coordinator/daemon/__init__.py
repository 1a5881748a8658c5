"""The coordinator daemon: the loop (`loop`), its in-memory model, the supervision of
agents, the upkeep chores, the pure reconcilers (`reconcile/`), dashboard debouncing,
retention, letting go of departed agents and the work-tree watch.

May import: every coordinator package below it (`views`, `git`, `tasks`, `claims`,
`plans`, `agents`), the root modules and `memory`; never `hooks`, `mcp` or `cli`.
"""
