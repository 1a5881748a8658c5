"""Plans: the YAML an operator writes, its task specs, conditions, readiness and the
critical path. Pure rules over specs and values; nothing here writes to the store.

May import: the coordinator's root modules and `memory`.
"""
