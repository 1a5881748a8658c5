"""What operators read: the session and dashboard views (`board`), the session view as text
(`session_text`), the dashboard of `swarm status` and the daemon's dashboard files
(`dashboard/`) over the Markdown helpers and the Mermaid graph (`markdown`), the
completion report (`report/`), `swarm top` and doctor's rule.

May import: `git`, `tasks`, `claims`, `agents`, `plans`, the coordinator's root modules
and `memory`.
"""
