"""Tasks: loading plans into the store, starting, progress, finishing, operators' commands
(retry, reset, cancel, skip), attempts and retries, history, which task comes next, and every
task's state read at once.

May import: `claims`, `agents`, `plans`, the coordinator's root modules and `memory`.
"""
