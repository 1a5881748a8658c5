"""The `swarm` command line: a thin click layer over the library (see `main`)."""
