"""The house's shape: imports run downward only (the import-linter contracts in
pyproject.toml, checked by the real `lint-imports`), and no module is over 400 lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("memory", "coordinator", "hooks")
MAX_LINES = 400


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run `lint-imports` on the packages under `tree` (found before any installed copy)."""
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_of_the_tree(tmp_path: Path) -> Path:
    """The three packages and pyproject.toml, copied into `tmp_path`."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "inverted_import", "contract"),
    [
        # memory is the bottom layer: it knows nothing of the coordinator.
        ("memory/keys.py", "from coordinator import layout", "memory knows nothing"),
        # memory has no cycles: the key rules do not reach back to the store using them.
        ("memory/keys.py", "import memory.store", "no import cycles"),
        # The hooks run below the servers: no daemon on the hook path.
        ("hooks/run.py", "import coordinator.daemon.loop", "hooks import no cli, mcp or daemon"),
        # The plans' pure rules are below the tasks that use them.
        (
            "coordinator/plans/readiness.py",
            "from coordinator.tasks import attempts",
            "downward only",
        ),
        # The coordinator's packages are below the hooks that call them.
        ("coordinator/claims/globs.py", "import hooks.run", "downward only"),
        # The console entry point is the top: nothing below imports the command line.
        ("coordinator/views/board.py", "import coordinator.cli.main", "downward only"),
    ],
)
def test_an_inverted_import_breaks_a_contract(
    tmp_path: Path, module: str, inverted_import: str, contract: str
) -> None:
    tree = copy_of_the_tree(tmp_path)
    path = tree / module
    path.write_text(path.read_text() + f"\n{inverted_import}  # deliberately inverted\n")
    result = lint_imports(tree)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
    # The report names the importer (a cycle by its name in the package: `.keys -> .store`).
    importer = module.removesuffix(".py").replace("/", ".")
    sibling = "." + importer.rsplit(".", 1)[1] + " ->"
    assert importer in broken or sibling in broken, result.stdout


def python_modules() -> list[Path]:
    """Every Python module of the package and of scripts/."""
    found = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    return sorted(found + list((ROOT / "scripts").rglob("*.py")))


def test_no_module_is_over_400_lines() -> None:
    sizes = {path: len(path.read_text().splitlines()) for path in python_modules()}
    assert len(sizes) > 50
    over = {str(path.relative_to(ROOT)): n for path, n in sizes.items() if n > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines: {over}"
