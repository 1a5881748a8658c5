"""Git at the edges of coordination: the pre-commit guard (`guard`) and merge-conflict
prediction (`predict`) over the git plumbing they share (`repo`); the home of worktrees and
integration.

May import: `tasks`, `claims`, `agents`, `plans`, the coordinator's root modules and `memory`.
"""
