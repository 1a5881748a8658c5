"""Git at the edges of coordination: the pre-commit guard and merge-conflict prediction;
the home of worktrees and integration.

May import: `tasks`, `claims`, `agents`, `plans`, the coordinator's root modules and `memory`.
"""
