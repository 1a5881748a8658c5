"""Agents: sessions and inboxes, liveness leases and current work, which agent a process
speaks for (identity), operating-system processes, and the agent clients' own config
files (`swarm init --claude | --codex | --gemini | --cursor`).

May import: the coordinator's root modules and `memory`.
"""
