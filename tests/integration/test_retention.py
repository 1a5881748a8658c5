"""Old events, notifications and edit records pruned by age; post-edit reads a bounded
number of records however many edits a file has had."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coordinator.agents.sessions import notify
from coordinator.claims.edits import record_edit
from coordinator.daemon.retention import prune_old_records, retention
from coordinator.state import event_op
from memory.backends import open_store
from memory.store import Store
from tests.integration.conftest import Project

DAY = 24 * 3600.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_records_older_than_the_retention_are_pruned(tmp_path: Path) -> None:
    clock = Clock()
    store = open_store(tmp_path / "memory.db", create=True, clock=clock)
    (tmp_path / "a.py").write_text("a\n")
    for _ in range(3):
        store.txn([], [event_op("progress", clock.now, message="old")])
        notify(store, "old news", to="alice")
        notify(store, "old news", to="bob")
        clock.now += 1
    clock.now += 40 * DAY
    store.txn([], [event_op("progress", clock.now, message="new")])
    notify(store, "fresh", to="alice")
    store.put("user/key", 1)

    pruned = prune_old_records(store, 30 * DAY, batch=2)

    # Each notification is an inbox record and a `notification` event.
    assert (pruned.events, pruned.notifications) == (9, 6)
    assert [r.value["message"] for r in store.list_prefix("swarm/events/")] == ["new", "fresh"]
    assert [r.value["message"] for r in store.list_prefix("swarm/inbox/")] == ["fresh"]
    assert store.get("user/key") is not None
    assert prune_old_records(store, 30 * DAY).total == 0


def test_the_retention_setting_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from memory.settings import BadSetting

    assert retention() == 30 * DAY
    monkeypatch.setenv("SWARM_RETENTION", "3600")
    assert retention() == 3600
    monkeypatch.setenv("SWARM_RETENTION", "soon")
    with pytest.raises(BadSetting, match="SWARM_RETENTION"):
        retention()


def test_post_edit_reads_a_bounded_number_of_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    store = open_store(tmp_path / "memory.db", create=True, clock=clock)
    (tmp_path / "a.py").write_text("a\n")
    record_edit(store, tmp_path, "a.py", "bob")
    for _ in range(300):
        clock.now += 0.5
        record_edit(store, tmp_path, "a.py", "alice")
    read: list[int] = []
    for name in ("list_prefix", "list_range", "get_many"):
        original = getattr(Store, name)

        def counting(self: Store, *args: Any, _original: Any = original, **kw: Any) -> Any:
            result = _original(self, *args, **kw)
            read.append(len(result))
            return result

        monkeypatch.setattr(Store, name, counting)

    result = record_edit(store, tmp_path, "a.py", "alice")

    assert sum(read) < 10  # not the 300 edit records of the file
    # Raised by every one of alice's edits, recorded once: this one is seen again.
    assert any("alice and bob edited a.py" in d for d in result.repeats)


def test_memory_prune_command(project: Project) -> None:
    project.ok("hooks", "notify", "--to", "alice", "--message", "hi", "--agent", "bob")
    assert "pruned 0 events, 0 notifications" in project.ok("memory", "prune").stdout
    out = project.ok("memory", "prune", "--older-than", "1s", "--json")
    assert out.json()["older_than"] == 1.0
    bad = project.swarm("memory", "prune", "--older-than", "soon")
    assert bad.code != 0 and "invalid duration" in bad.stderr and "Traceback" not in bad.stderr
