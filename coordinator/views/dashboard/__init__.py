"""The dashboard: the Markdown view `swarm status` prints (`render`) and the files the
daemon keeps current with it, written atomically and only when they change (`files`).

May import: what `coordinator.views` may import, and the rest of `views`.
"""
