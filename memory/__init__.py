"""The swarm store: namespaced JSON keys with revisions, leases, CAS and a change log."""
