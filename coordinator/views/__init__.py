"""What operators read: the session and dashboard views (`board`), the dashboard file and
`swarm status`, the completion report (`report/`), `swarm top` and doctor's rule.

May import: `git`, `tasks`, `claims`, `agents`, `plans`, the coordinator's root modules
and `memory`.
"""
