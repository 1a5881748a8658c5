"""What docs/backends.md must say plainly about agents on other machines (issue 21,
point 11): until they have a runner of their own, the daemon sees them only through their
lease, and the tests' second host shares the daemon's process list."""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "backends.md"


def test_the_backends_page_says_an_agent_elsewhere_is_seen_only_through_its_lease() -> None:
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    assert "An agent on another machine is seen only through its lease" in text
    assert "it can neither adopt that agent nor signal it" in text
    assert "`ip netns exec`, so they share the daemon's process list" in text
    assert "Until agents on other machines have a runner of their own" in text
