"""Walk the config's pydantic models along a TOML path: which model or type a key belongs to.

Used to word errors (the fields a misspelt key was probably meant to be), to coerce
``${ENV}`` values to the type of their key, and by the tests that keep
``config.example.toml`` complete. A campaign table (typed ``Any`` in the root model) is
resolved to its campaign's model by its ``type`` key.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

import campaigns
from campaigns.base import REGISTRY


def unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` from a field annotation."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def resolve(annotation: Any, value: Any) -> Any:
    """The annotation itself, or for an ``Any`` campaign table, its campaign's model."""
    annotation = unwrap(annotation)
    if annotation is Any and isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind in REGISTRY:
            return REGISTRY[kind].config_model
    return annotation


def child(annotation: Any, part: str | int) -> Any:
    """The annotation of ``part`` inside a value of type ``annotation`` (None if unknown)."""
    annotation = unwrap(annotation)
    if is_model(annotation):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and args and isinstance(part, int):
        return args[0]
    if origin is dict and len(args) == 2 and isinstance(part, str):
        return args[1]
    return None


def _step(value: Any, part: str | int) -> Any:
    if isinstance(value, dict) and isinstance(part, str):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def annotation_at(root: type[BaseModel], loc: Sequence[str | int], data: Any) -> Any:
    """The annotation of the value at ``loc`` in ``data`` (validated by ``root``), or None."""
    annotation: Any = root
    value = data
    for part in loc:
        annotation = child(resolve(annotation, value), part)
        if annotation is None:
            return None
        value = _step(value, part)
    return resolve(annotation, value)


def model_at(root: type[BaseModel], loc: Sequence[str | int], data: Any) -> type[BaseModel] | None:
    """The model of the table at ``loc``, if that is a table of a known model."""
    found = annotation_at(root, loc, data)
    return found if is_model(found) else None


def scalar_type(annotation: Any) -> type | None:
    """``int``, ``float``, ``bool`` or ``str`` when ``annotation`` is (a constrained) one of them."""
    base = unwrap(annotation)
    return base if base in (int, float, bool, str) else None


def models_in(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """Every model reachable from ``root`` through its fields (campaign models included)."""
    campaigns.load_all()
    seen: set[type[BaseModel]] = set()
    todo: list[Any] = [root, *(cls.config_model for cls in REGISTRY.values())]
    while todo:
        annotation = unwrap(todo.pop())
        if is_model(annotation):
            if annotation not in seen:
                seen.add(annotation)
                yield annotation
                todo.extend(f.annotation for f in annotation.model_fields.values())
        else:
            todo.extend(get_args(annotation))
