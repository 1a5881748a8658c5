"""The swarm store: namespaced JSON keys with revisions, leases, CAS and a change log.

SQLite (`store`, `aio`) and PostgreSQL (`pg`, `pg_aio`) behind one engine (`engine` and
`maintenance`, SQL in `sql`), the backend chosen in `backends` alone. The bottom layer:
imports nothing of `coordinator` or `hooks`.
"""
