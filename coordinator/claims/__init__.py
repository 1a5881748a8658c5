"""Claims: who holds which file (`grants`), queued requests (`queue`), the one path
canonicaliser (`paths`), globs, the files patches (`patches`) and shell commands
(`shell/`) write, and the edits and conflicts they reveal (`edits`).

May import: `agents`, `plans`, the coordinator's root modules and `memory`.
"""
