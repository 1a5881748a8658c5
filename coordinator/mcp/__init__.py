"""`swarm mcp`: the swarm as MCP tools and resources, for agents that would rather ask than
be checked.

Hooks enforce at fixed moments; these tools let an agent act when it chooses (claim files
before a refactor, read a decision another agent stored, report progress, message another
agent, find its next task). Every tool makes the same library call the matching hook makes,
so a refusal is the hook's refusal: the tool result is an error whose text is the one-line
reason `swarm hooks` prints (with the detail lines under it).

It speaks for `SWARM_AGENT_ID` or `--agent`, else for the agent its own client's hooks
registered (found from the client process, on each call: coordinator.agents.identity), so that
the hooks see its claims as the agent's own.

Resources (the dashboard, the event log, each plan) are re-read whenever the store changes
(the same WAL watcher the daemon wakes on), and a subscribed client is told when one's
content changed: on `subscriptions/listen` streams (2026-07-28 clients) and through
`resources/subscribe` (earlier clients, which is what coding agents speak today).

Built on the official SDK (`mcp`); imported only by `swarm mcp`, never on the hook path.
server.py builds and runs the server and knows who it speaks for; memory_tools.py,
task_tools.py, claim_tools.py and message_tools.py add the tools; resources.py the
resources and what they hold.

May import: `hooks`, every coordinator package below it, the root modules and `memory`;
never `cli` or `daemon`.
"""
