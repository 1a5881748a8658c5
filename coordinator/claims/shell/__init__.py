"""What a shell command writes, so that the adapters judge an agent's shell tool call like
an edit: the command line parsed with tree-sitter-bash and walked (`parse`), the words of
the parsed command (`words`), what each writing command writes given its words
(`commands`), and where the writes land in a repository (`targets`).

May import: the rest of `claims` (the path canonicaliser, patches), the coordinator's
root modules and `memory`.
"""
