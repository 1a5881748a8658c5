"""`NamedTuple` for the modules a hook imports: typing.NamedTuple's class syntax, without
importing typing and without its per-field cost.

A hook process lives for milliseconds, and defining its record classes was a fair part
of them: `typing` takes some 2.5 ms to import, and `typing.NamedTuple` compiles each field's
annotation (a string, under `from __future__ import annotations`) into a `ForwardRef`.
This builds the same class, a `collections.namedtuple` with the class body's methods,
properties and docstring, keeping the annotations as written. The type checker sees
`typing.NamedTuple` itself.

Those modules import typing's other names under `if TYPE_CHECKING:`, with a module-level
`TYPE_CHECKING = False` in place of `typing.TYPE_CHECKING` (mypy treats any name
TYPE_CHECKING as true).
"""

from __future__ import annotations

import collections

__all__ = ["NamedTuple"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple
else:
    # What typing.NamedTuple refuses to take from a class body, and what it does not copy.
    _PROHIBITED = frozenset(
        {
            "__new__",
            "__init__",
            "__slots__",
            "__getnewargs__",
            "_fields",
            "_field_defaults",
            "_make",
            "_replace",
            "_asdict",
            "_source",
        }
    )
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _NamedTupleMeta(type):
        def __new__(cls, typename, bases, namespace):
            if bases != (_NamedTuple,):
                raise TypeError("can only inherit from a NamedTuple type")
            annotations = namespace.get("__annotations__", {})
            defaulted = [name for name in annotations if name in namespace]
            for name in list(annotations)[len(annotations) - len(defaulted) :]:
                if name not in namespace:
                    raise TypeError(f"non-default field {name} follows a default field")
            record = collections.namedtuple(
                typename,
                list(annotations),
                defaults=[namespace[name] for name in defaulted],
                module=namespace["__module__"],
            )
            record.__annotations__ = annotations
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in record._fields:
                    setattr(record, key, value)
            return record

    _NamedTuple = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    def NamedTuple(typename, fields=None, /, **kwargs):
        """Only the class syntax is supported: `class Name(NamedTuple): field: type`."""
        raise TypeError("memory.tuples.NamedTuple supports the class syntax only")

    NamedTuple.__mro_entries__ = lambda bases: (_NamedTuple,)
