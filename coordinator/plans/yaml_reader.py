"""Reading a plan's YAML: PyYAML's safe loader, refusing duplicate keys.

The loader is PyYAML's C one (libyaml) where PyYAML was built with it: it parses a
10,000-task plan some twenty times faster than the pure-Python loader, which remains the
fall-back. Strings, lists and mappings are then built straight from the composed nodes
(`_plain_value`), refusing duplicate keys; other scalars go through PyYAML's constructor.

Kept apart from `coordinator.plans.spec` so that importing plans (as every hook does) does not
import PyYAML; only `swarm plan load` parses YAML.
"""

from __future__ import annotations

from typing import Any

import yaml

from coordinator.bulk import bulk_allocation
from coordinator.errors import PlanError


def load_yaml(text: str, source: str) -> Any:
    """Parse plan text; a syntax error raises PlanError naming the source and line."""
    try:
        with bulk_allocation():
            return _load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = err.problem or err.context or "syntax error"
        raise PlanError(f"{source}: {where}invalid YAML: {_one_line(problem)}") from None
    except yaml.YAMLError as err:
        raise PlanError(f"{source}: invalid YAML: {_one_line(err)}") from None
    except RecursionError:
        raise PlanError(f"{source}: invalid YAML: nested too deeply") from None


def _load(text: str) -> Any:
    loader = _PlanLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _plain_value(loader, node, {}, set())
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()


class _Unusual(Exception):
    """The document uses merge keys or recursive aliases: PyYAML's constructor builds it."""


_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


def _plain_value(
    loader: yaml.SafeLoader, node: yaml.Node, built: dict[int, Any], open_: set[int]
) -> Any:
    """The value of a composed node, built directly for the common cases (strings, lists,
    mappings, refusing duplicate keys) and through PyYAML's constructor for the other
    scalars (numbers, booleans, null, timestamps): a plan's tens of thousands of string
    scalars cost a dictionary look-up each instead of the constructor's dispatch.

    Recursive in the YAML's nesting (a plan is a few levels deep), not in its tasks."""
    ident = id(node)
    if ident in built:  # an alias of a node already built
        return built[ident]
    if ident in open_:
        raise _Unusual
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    elif isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        open_.add(ident)
        value = [_plain_value(loader, item, built, open_) for item in node.value]
        open_.discard(ident)
    elif isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        open_.add(ident)
        value = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise _Unusual
            key = _plain_value(loader, key_node, built, open_)
            try:
                duplicate = key in value
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            value[key] = _plain_value(loader, value_node, built, open_)
        open_.discard(ident)
    else:
        value = loader.construct_object(node, deep=True)
    built[ident] = value
    return value


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


#: libyaml's safe loader when PyYAML was built with it, else the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PlanLoader(_BaseLoader):  # type: ignore[valid-type,misc]  # chosen at import
    """A safe loader that refuses duplicate keys, which PyYAML would silently overwrite.

    Two tasks with one name would otherwise quietly become one.
    """


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        # Merge keys (`<<`) may legitimately repeat what they merge; only scalars compare.
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_PlanLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
