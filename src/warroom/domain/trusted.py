"""Building a model from values that were already validated, without validating them again.

For the hot paths of a client taking in thousands of events whose values a `TypeAdapter` has
just checked field by field (`protocol.compact`): pydantic's `model_construct` inspects the
default factories for every instance and was slower than validating. `TimelineEntry.from_trusted`
also fills defaults, for the entries built from few values.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new_object = object.__new__
_set_attribute = object.__setattr__


def trusted(cls: type[M], values: dict[str, Any], fields_set: set[str] | None = None) -> M:
    """An instance of `cls` holding `values`, which must name every field, in field order (the
    order it serialises in), with values of the field's type. `fields_set` says which were
    given rather than defaulted (`exclude_unset` dumps read it); all of them if None."""
    model = _new_object(cls)
    _set_attribute(model, "__dict__", values)
    _set_attribute(
        model, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set
    )
    _set_attribute(model, "__pydantic_extra__", None)
    _set_attribute(model, "__pydantic_private__", None)
    return model
