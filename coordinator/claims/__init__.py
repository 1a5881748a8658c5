"""Claims: who holds which file, queued requests, the one path canonicaliser, globs, and
the edits and conflicts they reveal.

May import: `agents`, `plans`, the coordinator's root modules and `memory`.
"""
