"""The agent-facing commands: `swarm hooks pre-task | post-task | pre-edit | post-edit | ...`
(`run`) and the adapters for agents' own hook protocols (`adapters/`). Thin and fast: each
turns an agent's call into one coordinator or memory call.

May import: `coordinator.views` and the coordinator packages below it, the root modules and
`memory`; never `coordinator.cli`, `coordinator.mcp` or `coordinator.daemon`.
"""
