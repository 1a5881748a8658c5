"""The real agent CLIs: which npm package and version, how each is installed into a cache
shared between runs, pointed at the fake model server, run without a person, and how it
edits a file (its own edit tool, as a script of tool calls for the fake model).

Each client runs with an environment built from nothing: a home directory of its own, a
dummy key, its base URL at the fake server, and a proxy that is the fake server too, so
that a request for anything but 127.0.0.1 is answered 403 there instead of leaving the
machine. No SWARM_AGENT_ID, SWARM_DB or SWARM_SESSION_ID: the hooks `swarm init` installed
name the agent and find the store themselves.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.fake_model import ToolCall, Turn

#: The pinned releases: the newest of each when issue 21 was worked on (all 10 tests passed
#: with them). Bump them together with a run of `scripts/e2e`.
PACKAGES = {
    "claude": ("@anthropic-ai/claude-code", "2.1.337"),
    "codex": ("@openai/codex", "0.171.0"),
    "gemini": ("@google/gemini-cli", "0.61.0"),
}
#: The executable each package puts in node_modules/.bin.
BINARIES = {"claude": "claude", "codex": "codex", "gemini": "gemini"}
#: The model a Codex session using MCP tools runs (see `Client.mcp_options`).
MCP_CODEX_MODEL = "gpt-4.1"
#: The directory of the `swarm` console script the hooks call.
SWARM_BIN = Path(sys.executable).parent


#: Set (to 1) by `scripts/e2e --latest`: run against the newest release of each client.
LATEST_ENV = "SWARM_E2E_LATEST"


def latest() -> bool:
    """Whether this run is against the newest releases (`scripts/e2e --latest`)."""
    return os.environ.get(LATEST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def cache_dir() -> Path:
    """Where the CLIs are installed: SWARM_E2E_CACHE, else ~/.cache/swarm-e2e/npm (the
    pinned releases) or ~/.cache/swarm-e2e/latest (the newest, so that a `--latest` run
    never replaces the pinned ones)."""
    explicit = os.environ.get("SWARM_E2E_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swarm-e2e" / ("latest" if latest() else "npm")


def npm() -> str:
    """The npm executable; RuntimeError when there is none."""
    found = shutil.which("npm")
    if found is None:
        raise RuntimeError("npm is not on PATH: the end-to-end suite needs Node.js and npm")
    return found


def newest_version(package: str) -> str:
    """The version the npm registry tags `latest` for `package` (`npm view PKG version`)."""
    proc = subprocess.run(
        [npm(), "view", package, "version"],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    return proc.stdout.strip()


@functools.cache
def wanted() -> dict[str, tuple[str, str]]:
    """The package and version of each client this run uses: the pins, or with
    SWARM_E2E_LATEST the newest release of each (asked of the registry once a run)."""
    if not latest():
        return dict(PACKAGES)
    return {name: (package, newest_version(package)) for name, (package, _) in PACKAGES.items()}


def describe(versions: dict[str, tuple[str, str]]) -> str:
    """One line naming each client's version, and whether they are the pins or the newest."""
    listed = ", ".join(f"{package} {version}" for package, version in versions.values())
    kind = "the newest on the npm registry" if latest() else "pinned"
    return f"agent CLIs ({kind}): {listed}"


def installed_version(prefix: Path, package: str) -> str | None:
    """The version of `package` installed under `prefix`, if any."""
    manifest = prefix / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def install_clients(
    prefix: Path, versions: dict[str, tuple[str, str]] | None = None
) -> dict[str, Path]:
    """Install the CLIs (`versions`, default the pins) under `prefix` unless they already
    are (under a lock, so that concurrent runs share one cache); returns each client's
    executable."""
    versions = PACKAGES if versions is None else versions
    prefix.mkdir(parents=True, exist_ok=True)
    with (prefix / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [
            f"{package}@{version}"
            for package, version in versions.values()
            if installed_version(prefix, package) != version
        ]
        if missing:
            subprocess.run(
                [
                    npm(),
                    "install",
                    "--prefix",
                    str(prefix),
                    "--save-exact",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    *missing,
                ],
                check=True,
                stdin=subprocess.DEVNULL,
                timeout=600,
            )
    return {name: prefix / "node_modules" / ".bin" / BINARIES[name] for name in versions}


def base_env(home: Path, proxy: str) -> dict[str, str]:
    """What every client gets: its home, a PATH with `swarm` and node, and the proxy."""
    node = shutil.which("node")
    path = [str(SWARM_BIN)]
    if node is not None:
        path.append(str(Path(node).parent))
    path += ["/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "HOME": str(home),
        "PATH": os.pathsep.join(dict.fromkeys(path)),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "CI": "1",
        "TMPDIR": str(home / "tmp"),
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "http_proxy": proxy,
        "https_proxy": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@dataclass(frozen=True)
class Client:
    """One agent CLI: its `swarm init` flag, its environment and command line, and how its
    model edits a file."""

    name: str

    def env(self, home: Path, server: str, repo: Path) -> dict[str, str]:
        """The environment for a session in `repo` whose model is the fake server at
        `server`."""
        env = base_env(home, server)
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        if self.name == "claude":
            env |= {
                "ANTHROPIC_BASE_URL": server,
                "ANTHROPIC_API_KEY": "sk-ant-e2e-dummy",
                "CLAUDE_CONFIG_DIR": str(home / ".claude"),
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1",
            }
        elif self.name == "codex":
            codex_home = home / ".codex"
            codex_home.mkdir(parents=True, exist_ok=True)
            config = codex_home / "config.toml"
            # Written once: what Codex adds there (the hooks a person trusted) is kept.
            if not config.exists():
                config.write_text(codex_config(server, repo), encoding="utf-8")
            env |= {"CODEX_HOME": str(codex_home), "E2E_OPENAI_KEY": "sk-e2e-dummy"}
        else:
            settings = home / ".gemini" / "settings.json"
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(json.dumps(GEMINI_USER_SETTINGS, indent=2), encoding="utf-8")
            env |= {
                "GEMINI_API_KEY": "e2e-dummy",
                "GOOGLE_GEMINI_BASE_URL": server,
                # Headless runs refuse an untrusted folder; trusting it is the user's choice.
                "GEMINI_CLI_TRUST_WORKSPACE": "true",
            }
        return env

    def argv(
        self,
        binary: Path,
        prompt: str,
        extra: Sequence[str] = (),
        *,
        bypass_hook_trust: bool = True,
    ) -> list[str]:
        """The non-interactive command line, with the permissions to edit without asking;
        `extra` options (say Claude Code's `--mcp-config F --allowedTools T`) go before the
        prompt. Codex runs a project's hooks only once a person has trusted them (see
        `tests/e2e/test_codex_trust.py`); unless told otherwise its sessions here bypass
        that."""
        if self.name == "claude":
            # acceptEdits, not --dangerously-skip-permissions: the latter refuses to run as root.
            return [str(binary), "--permission-mode", "acceptEdits", *extra, "-p", prompt]
        if self.name == "codex":
            bypass = ["--dangerously-bypass-hook-trust"] if bypass_hook_trust else []
            return [
                str(binary),
                "exec",
                "--dangerously-bypass-approvals-and-sandbox",
                *bypass,
                *extra,
                prompt,
            ]
        return [str(binary), "--yolo", *extra, "-p", prompt]

    def mcp_tool(self, server: str, tool: str) -> str:
        """The name the client gives the model for MCP server `server`'s tool `tool` (Codex
        offers them in a namespace `mcp__<server>`; the fake model answers a call of
        `mcp__<server>__<tool>` in it)."""
        if self.name == "gemini":
            return f"mcp_{server}_{tool}"
        return f"mcp__{server}__{tool}"

    def mcp_options(self, tools: Sequence[str]) -> list[str]:
        """The options that let a session call these MCP tools without asking (`--yolo`
        and Codex's bypass flag already do). Codex offers MCP tools to the models it knows
        (gpt-5.5) only through its `tool_search`, which the fake model does not speak, so
        its session runs a model it has no metadata for, offered them directly; that
        model gets no apply_patch tool (`edits_beside_mcp`)."""
        if self.name == "claude":
            return ["--allowedTools", *tools]
        if self.name == "codex":
            return ["-c", f"model={json.dumps(MCP_CODEX_MODEL)}"]
        return []

    @property
    def edits_beside_mcp(self) -> bool:
        """Whether a session started with `mcp_options` can also edit with `edit`."""
        return self.name != "codex"

    def edit(
        self, repo: Path, path: str, old: str, new: str, *, gate: str | None = None
    ) -> list[Turn]:
        """The turns in which the model replaces `old` by `new` in `path` (relative to
        `repo`) with the client's edit tool; with `gate`, held until the test opens it."""
        absolute = str(repo / path)
        if self.name == "claude":
            # Claude Code's Edit refuses a file the session has not read.
            return [
                Turn([ToolCall("Read", {"file_path": absolute})], gate=gate),
                Turn(
                    [
                        ToolCall(
                            "Edit", {"file_path": absolute, "old_string": old, "new_string": new}
                        )
                    ]
                ),
            ]
        if self.name == "codex":
            patch = f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch\n"
            return [Turn([ToolCall("apply_patch", {"input": patch})], gate=gate)]
        return [
            Turn(
                [
                    ToolCall(
                        "replace",
                        {
                            "file_path": absolute,
                            "old_string": old,
                            "new_string": new,
                            "instruction": f"set {new}",
                        },
                    )
                ],
                gate=gate,
            )
        ]


CLIENTS: Sequence[Client] = [Client("claude"), Client("codex"), Client("gemini")]

#: Gemini CLI's user settings: API-key auth, nothing sent to Google, no update check.
GEMINI_USER_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    "model": {"name": "gemini-2.5-flash"},
}


def codex_config(server: str, repo: Path) -> str:
    """Codex's config.toml: a model provider at the fake server, speaking the Responses
    API (the model is one Codex knows, so that it offers its apply_patch tool), no update
    check, analytics or plugin catalogue, and `repo` trusted, since Codex loads a project's
    hooks only in a trusted project."""
    return f"""\
model = "gpt-5.5"
model_provider = "e2e"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
# Codex leaves an optional MCP server out of the first turn's tools when it takes more
# than a second to start (the default grace); `swarm mcp` can, on a loaded machine. 0
# waits for each server's own startup_timeout_sec (10 s) instead.
mcp_optional_startup_grace_ms = 0

# Left on, these reach github.com and chatgpt.com at start-up.
[analytics]
enabled = false

[features]
plugins = false

[model_providers.e2e]
name = "e2e fake model"
base_url = "{server}/v1"
env_key = "E2E_OPENAI_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[projects.{json.dumps(str(repo))}]
trust_level = "trusted"
"""
