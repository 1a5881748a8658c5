"""memory.tuples.NamedTuple builds the class typing.NamedTuple builds, from the same body."""

from __future__ import annotations

import pickle
import typing

import pytest

from memory.tuples import NamedTuple


class Ours(NamedTuple):
    """A record."""

    key: str
    value: int | None = None
    tags: tuple[str, ...] = ()

    def twice(self) -> int:
        return 2 * (self.value or 0)

    @property
    def shown(self) -> str:
        return f"{self.key}={self.value}"

    @classmethod
    def empty(cls) -> Ours:
        return cls("")


class Theirs(typing.NamedTuple):
    """A record."""

    key: str
    value: int | None = None
    tags: tuple[str, ...] = ()

    def twice(self) -> int:
        return 2 * (self.value or 0)

    @property
    def shown(self) -> str:
        return f"{self.key}={self.value}"

    @classmethod
    def empty(cls) -> Theirs:
        return cls("")


def test_the_class_is_the_one_typing_makes() -> None:
    assert Ours.__bases__ == Theirs.__bases__ == (tuple,)
    assert Ours._fields == Theirs._fields == ("key", "value", "tags")
    assert Ours._field_defaults == Theirs._field_defaults == {"value": None, "tags": ()}
    assert Ours.__doc__ == Theirs.__doc__ == "A record."
    assert Ours.__module__ == Theirs.__module__
    assert Ours.__qualname__ == "Ours"
    assert Ours.__match_args__ == Theirs.__match_args__
    assert set(dir(Ours)) == set(dir(Theirs))
    assert list(Ours.__annotations__) == list(Theirs.__annotations__)


def test_instances_behave_alike() -> None:
    ours, theirs = Ours("k", 2), Theirs("k", 2)
    assert tuple(ours) == tuple(theirs) == ("k", 2, ())
    assert hash(ours) == hash(theirs)
    assert repr(ours) == repr(theirs).replace("Theirs", "Ours")
    assert tuple(ours._replace(value=3)) == tuple(theirs._replace(value=3))
    assert ours._asdict() == theirs._asdict()
    assert tuple(Ours._make(["a", 1, ()])) == tuple(Theirs._make(["a", 1, ()]))
    assert (ours.twice(), ours.shown) == (theirs.twice(), theirs.shown)
    assert tuple(Ours.empty()) == tuple(Theirs.empty())
    key, value, tags = ours
    assert (key, value, tags) == ("k", 2, ())
    assert pickle.loads(pickle.dumps(ours)) == ours  # noqa: S301 - our own bytes
    with pytest.raises(TypeError):
        Ours()  # type: ignore[call-arg]


def test_the_same_mistakes_are_refused() -> None:
    with pytest.raises(TypeError):

        class Misordered(NamedTuple):
            a: int = 0
            b: int  # type: ignore[misc]

    with pytest.raises(AttributeError):

        class Overwrites(NamedTuple):
            a: int

            def _asdict(self) -> dict[str, int]:  # type: ignore[misc]
                return {}
