"""Keyword-only builders for the records scoring makes per judgement, per reason and per mention.

A record is built with every field named, so that a field added or reordered cannot shift a value
into the wrong one. Calling a class with keywords is the slow way to do that in CPython: the call
packs the keywords into a dict, and the dict is unpacked again to call __init__ (or a NamedTuple's
__new__). Calling a plain function with keywords packs nothing. keyword_builder(cls) makes that
function, `build(*, field, ...)`, which passes the fields to the class in their declared order:
the order is read from the class itself, so it cannot drift from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _fields(cls: type) -> list[tuple[str, object]]:
    """(name, default or MISSING) of each field, in the order the class takes them."""
    if dataclasses.is_dataclass(cls):
        # A field with a default factory is required: its default must be made anew per record,
        # which a builder's one fixed default cannot do.
        return [(f.name, f.default) for f in dataclasses.fields(cls) if f.init]
    names = getattr(cls, "_fields", None)
    if names is None:
        raise TypeError(f"{cls.__name__} is neither a dataclass nor a NamedTuple")
    defaults = getattr(cls, "_field_defaults", {})
    return [(name, defaults.get(name, dataclasses.MISSING)) for name in names]


def keyword_builder(cls: Callable[..., T]) -> Callable[..., T]:
    """A function taking exactly cls's fields, by keyword only, that returns cls(*fields in order)."""
    fields = _fields(cls)  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_cls": cls}
    params = []
    for name, default in fields:
        if default is dataclasses.MISSING:
            params.append(name)
        else:
            namespace[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
    names = ", ".join(name for name, _ in fields)
    source = f"def build(*, {', '.join(params)}):\n    return _cls({names})\n"
    exec(source, namespace)
    build = namespace["build"]
    build.__name__ = f"build_{cls.__name__}"  # type: ignore[attr-defined]
    build.__qualname__ = build.__name__
    build.__doc__ = f"{cls.__name__}(...) by keyword, without packing the keywords into a dict."
    return build
