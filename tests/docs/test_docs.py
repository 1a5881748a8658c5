"""docs/ against the code: every command and option, every hook and its options, every plan
field and every environment variable the code reads appears in docs/; every link there
resolves; the layout the pages describe is the tree's; the examples marked runnable run.

In the manner of sqlite-utils' tests/test_docs.py, the cases are generated from the
definitions themselves (the click tree, the hooks' argparse parser, the plan validator's
field lists, the string constants of the packages, the folders of the tree), so a new
command, option, field, variable or package without its line in docs/ fails here.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import click
import pytest

from coordinator.cli.main import cli

# The definitions read here, each imported in this one place: when a module that holds one
# moves, this is the line to change.
from coordinator.plans.validate import _PLAN_FIELDS as PLAN_FIELDS
from coordinator.plans.validate import _TASK_FIELDS as TASK_FIELDS
from hooks.argparser import build_parser as build_hook_parser
from tests.integration.conftest import git_env

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
#: The packages whose string constants name the environment variables the code reads.
PACKAGES = ("memory", "coordinator", "hooks")
#: An environment variable of ours; in an f-string, a placeholder stands for each field.
ENV_NAME = re.compile(r"SWARM_[A-Z0-9_]+")
#: The fence of a shell example the tests run.
RUNNABLE_FENCE = re.compile(r"^```sh runnable\n(.*?)^```$", re.M | re.S)


# --- what the code defines -----------------------------------------------------------------


def long_flags(params: list[click.Parameter]) -> list[str]:
    """The long flags of a click command's options (both halves of `--x/--no-x`)."""
    return [
        flag
        for param in params
        if isinstance(param, click.Option) and not param.hidden
        for flag in (*param.opts, *param.secondary_opts)
        if flag.startswith("--")
    ]


def hook_parsers() -> dict[str, argparse.ArgumentParser]:
    """The sub-command parsers of `swarm hooks`, by name."""
    for action in build_hook_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("swarm hooks has no sub-commands")


@cache
def command_tree() -> dict[tuple[str, ...], list[str]]:
    """Every command of `swarm` by path (the root is `()`) with its long flags: the click
    tree, and under `hooks` the hook runner's own parsers."""
    tree: dict[tuple[str, ...], list[str]] = {}

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        tree[path] = long_flags(command.params)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                if not sub.hidden:
                    walk(sub, (*path, name))

    walk(cli, ())
    for name, parser in hook_parsers().items():
        flags = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
        tree["hooks", name] = [flag for flag in flags if flag != "--help"]
    return tree


def children(path: tuple[str, ...]) -> set[str]:
    """The names of the commands directly under `path`."""
    return {p[-1] for p in command_tree() if len(p) == len(path) + 1 and p[:-1] == path}


def environment_variables() -> dict[str, str]:
    """Each `SWARM_*` name a string constant of the packages spells, as a pattern for the
    docs: an f-string's fields (`SWARM_{agent}_...`) match any `<PLACEHOLDER>`."""
    found: dict[str, str] = {}
    for path in sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside_fstrings: set[int] = set()
        for node in ast.walk(tree):  # breadth first: an f-string before its parts
            if isinstance(node, ast.JoinedStr):
                inside_fstrings.update(id(value) for value in node.values)
                parts = [str(v.value) if isinstance(v, ast.Constant) else None for v in node.values]
                if ENV_NAME.fullmatch("".join(p if p is not None else "X" for p in parts)):
                    shown = "".join(p if p is not None else "<NAME>" for p in parts)
                    pattern = "".join(re.escape(p) if p is not None else "<[A-Z_]+>" for p in parts)
                    found[shown] = pattern
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in inside_fstrings
                and ENV_NAME.fullmatch(node.value)
            ):
                found[node.value] = re.escape(node.value)
    return found


# --- what the docs say ---------------------------------------------------------------------


def blocks(text: str) -> Iterator[str]:
    """The headings, paragraphs, list items, table rows and code blocks of a page."""
    current: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            if in_fence:
                current.append(line)
                yield "\n".join(current)
                current, in_fence = [], False
                continue
            if current:
                yield "\n".join(current)
            current, in_fence = [line], True
            continue
        if in_fence:
            current.append(line)
            continue
        starts_block = line.startswith(("#", "|")) or re.match(r"(- |\* |\d+\. )", line)
        if (not line.strip() or starts_block) and current:
            yield "\n".join(current)
            current = []
        if line.strip():
            current.append(line)
        if line.startswith(("#", "|")):
            yield "\n".join(current)
            current = []
    if current:
        yield "\n".join(current)


@cache
def doc_blocks() -> list[str]:
    """Every block of every page of docs/, its white space folded (lines wrap anywhere)."""
    return [
        " ".join(block.split())
        for page in PAGES
        for block in blocks(page.read_text(encoding="utf-8"))
    ]


def words(phrase: str) -> re.Pattern[str]:
    """`phrase` as whole words: `swarm plan` is not in `swarm planner`, `--json` not in
    `--json-lines`."""
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")


def names(block: str, path: tuple[str, ...]) -> bool:
    """Whether `block` names the command at `path` itself: `swarm memory` followed by
    something other than one of its sub-commands (`swarm memory put` names `put`)."""
    below = children(path)
    for match in words(" ".join(("swarm", *path))).finditer(block):
        following = re.match(r" ([\w-]+)", block[match.end() :])
        if not (following and following.group(1) in below):
            return True
    return False


def documents(path: tuple[str, ...], flag: str) -> bool:
    """Whether some block names the command (or, for every command under it, its group:
    "all `swarm hooks ...` take `--agent`") together with `flag`."""
    scopes = [path, path[:-1]] if len(path) > 1 else [path]
    flag_words = words(flag)
    return any(
        flag_words.search(block) and any(names(block, scope) for scope in scopes)
        for block in doc_blocks()
    )


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def outside_code_blocks(text: str) -> str:
    """A page without its fenced code blocks."""
    return re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S)


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings."""
    lines = outside_code_blocks(page.read_text(encoding="utf-8")).splitlines()
    return {slug(line.lstrip("#")) for line in lines if line.startswith("#")}


def runnable_examples() -> list[tuple[str, str]]:
    """Each shell example marked runnable, as (page:line, script)."""
    examples = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in RUNNABLE_FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            examples.append((f"{page.name}:{line}", match.group(1)))
    return examples


COMMANDS = sorted(command_tree())
OPTIONS = [(path, flag) for path in COMMANDS for flag in command_tree()[path]]
ENVIRONMENT = environment_variables()
RUNNABLE = runnable_examples()


def test_the_generated_cases_are_not_empty() -> None:
    # Guards the parametrised tests below against silently testing nothing.
    assert ("memory", "put") in COMMANDS and ("hooks", "pre-task") in COMMANDS
    assert (("hooks", "post-task"), "--metrics") in OPTIONS
    assert {"phase", "tasks"} <= set(PLAN_FIELDS) and {"requires", "gates"} <= set(TASK_FIELDS)
    assert "SWARM_DB" in ENVIRONMENT and "SWARM_<NAME>_POST_TASK_ON_STOP" in ENVIRONMENT
    assert len(RUNNABLE) >= 3


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("swarm", *p)))
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    phrase = words(" ".join(("swarm", *path)))
    assert any(phrase.search(block) for block in doc_blocks()), (
        f"docs/ does not mention `swarm {' '.join(path)}`"
    )


@pytest.mark.parametrize(("path", "flag"), OPTIONS, ids=[" ".join((*p, f)) for p, f in OPTIONS])
def test_every_option_is_documented_with_its_command(path: tuple[str, ...], flag: str) -> None:
    command = " ".join(("swarm", *path))
    assert documents(path, flag), (
        f"no paragraph, list item, table row or example in docs/ names `{command}` with {flag}"
    )


@pytest.mark.parametrize(
    ("level", "field"),
    [("plan", field) for field in PLAN_FIELDS] + [("task", field) for field in TASK_FIELDS],
    ids=str,
)
def test_every_plan_field_is_in_plans_md(level: str, field: str) -> None:
    page = (DOCS / "plans.md").read_text(encoding="utf-8")
    indent = "" if level == "plan" else " " * 4
    as_key = re.search(rf"^{indent}{field}:", page, re.M)
    as_code = re.search(rf"`{field}:?`", page)
    assert as_key or as_code, f"docs/plans.md shows the {level} field {field!r} nowhere"


@pytest.mark.parametrize("name", sorted(ENVIRONMENT))
def test_every_environment_variable_is_documented(name: str) -> None:
    pattern = re.compile(rf"(?<![\w<]){ENVIRONMENT[name]}(?![\w>])")
    assert any(pattern.search(page.read_text(encoding="utf-8")) for page in PAGES), (
        f"docs/ does not mention {name}"
    )


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(page: Path) -> None:
    # Code spans go too: a glob such as `[...]` is no link.
    text = re.sub(r"`[^`\n]*`", "", outside_code_blocks(page.read_text(encoding="utf-8")))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # another site
        file, _, anchor = target.partition("#")
        linked = (page.parent / file).resolve() if file else page
        assert linked.is_file(), f"{page.name}: {target} links to no file"
        if anchor:
            assert anchor in anchors(linked), f"{page.name}: {target}: no such heading"


def test_every_page_is_linked_from_the_index_and_the_readme() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"
            assert f"](docs/{page.name})" in readme, f"README.md does not link {page.name}"


def packages() -> list[Path]:
    """Every package folder of the three layers, relative to the root."""
    found = (p.parent for layer in PACKAGES for p in (ROOT / layer).rglob("__init__.py"))
    return sorted(p.relative_to(ROOT) for p in found if "__pycache__" not in p.parts)


@pytest.mark.parametrize("folder", packages(), ids=str)
def test_every_package_is_in_the_architecture_table(folder: Path) -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{folder.as_posix()}/` \|", page, re.M), (
        f"docs/architecture.md has no row for {folder.as_posix()}/"
    )


def test_the_readme_layout_names_every_coordinator_package() -> None:
    readme = README.read_text(encoding="utf-8")
    layout = readme[readme.index("## The layout") :]
    for folder in packages():
        if len(folder.parts) == 1:
            assert f"| `{folder}/` |" in layout, f"README's layout has no row for {folder}/"
        elif folder.parts[0] == "coordinator":
            assert f"`{folder.name}/`" in layout, f"README's layout does not name {folder}/"


def test_the_import_layers_are_the_contracts() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert "\n".join(["```", *layers, "```"]) in page, "docs/architecture.md: layers differ"


@pytest.mark.parametrize(("where", "script"), RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_runnable_examples_run(tmp_path: Path, where: str, script: str) -> None:
    assert Path(sys.executable).with_name("swarm").exists()
    env = git_env()  # the installed `swarm` first on PATH, no SWARM_* from outside
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=tmp_path, check=True, env=env)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    assert result.returncode == 0, f"{where} exited {result.returncode}\n{output}"
