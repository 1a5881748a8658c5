"""Reading a plan's YAML: PyYAML's safe loader, refusing duplicate keys.

The loader is PyYAML's C one (libyaml) where PyYAML was built with it: it parses a
10,000-task plan some twenty times faster than the pure-Python loader, which remains the
fall-back. Both share the Python constructor, where duplicate keys are refused.

Kept apart from `coordinator.plan` so that importing plans (as every hook does) does not
import PyYAML; only `swarm plan load` parses YAML.
"""

from __future__ import annotations

from typing import Any

import yaml

from coordinator.errors import PlanError


def load_yaml(text: str, source: str) -> Any:
    """Parse plan text; a syntax error raises PlanError naming the source and line."""
    try:
        return yaml.load(text, Loader=_PlanLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = err.problem or err.context or "syntax error"
        raise PlanError(f"{source}: {where}invalid YAML: {_one_line(problem)}") from None
    except yaml.YAMLError as err:
        raise PlanError(f"{source}: invalid YAML: {_one_line(err)}") from None


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
