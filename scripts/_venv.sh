# Sourced by scripts/test, scripts/demo and scripts/bench: create or reuse .venv and
# install this package into it (with EXTRAS, e.g. "test"), quietly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
spec="."
if [ -n "${EXTRAS:-}" ]; then spec=".[${EXTRAS}]"; fi
# Reinstall only when the project's metadata changed since the last install.
stamp=".venv/.swarm-installed-${EXTRAS:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    touch "$stamp"
fi
# Hooks start a fresh interpreter on every call: make sure they find compiled bytecode
# even where PYTHONDONTWRITEBYTECODE keeps Python from writing it (only what changed is
# recompiled).
.venv/bin/python -m compileall -q memory coordinator hooks >/dev/null
