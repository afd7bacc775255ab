"""Building a model from values that were already validated, without validating them again.

For the hot paths of a client taking in thousands of events whose values a `TypeAdapter` has
just checked field by field (`protocol.compact`): pydantic's `model_construct` inspects the
default factories for every instance and was slower than validating. `TimelineEntry` has its own
(`TimelineEntry.from_trusted`), which also fills defaults.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new_object = object.__new__
_set_attribute = object.__setattr__


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of `cls` holding `values`, which must name every field, in field order (the
    order it serialises in), with values of the field's type."""
    model = _new_object(cls)
    _set_attribute(model, "__dict__", values)
    _set_attribute(model, "__pydantic_fields_set__", set(values))
    _set_attribute(model, "__pydantic_extra__", None)
    _set_attribute(model, "__pydantic_private__", None)
    return model
