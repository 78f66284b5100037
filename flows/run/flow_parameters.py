"""The run flows' parameters as Prefect stores them for its UI, encoded without FastAPI.

Prefect's `Flow.serialize_parameters` imports FastAPI's `jsonable_encoder` on every flow run
(about 0.1 s of a 10k-line month's 2.6-3 s, on the main thread). A run's parameters are
strings, numbers, paths, lists and the `RunOptions` dataclass: `plain_json` gives them the
same JSON form (tests/flows/test_flow_parameters.py holds it to FastAPI's encoder)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any
from uuid import UUID

from prefect import Flow


def plain_json(value: Any) -> Any:
    """`value` as JSON-ready data (dicts, lists, strings, numbers, booleans, None): a
    dataclass as its fields, a mapping with its keys and values encoded, a sequence or set as
    a list, a path, date or UUID as its text, a decimal as a number, an enum as its value;
    anything else as `<TypeName>`, Prefect's placeholder for a parameter it cannot store."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {plain_json(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_json(item) for item in value]
    if isinstance(value, enum.Enum):
        return plain_json(value.value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):  # (as FastAPI's encoder: a whole number as int, else float)
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (PurePath, UUID)):
        return str(value)
    return f"<{type(value).__name__}>"


class PlainParameterFlow(Flow):
    """A Prefect flow whose parameters are stored through `plain_json`."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return {key: plain_json(value) for key, value in parameters.items()}

    def with_options(self, **options: Any) -> PlainParameterFlow:
        # (Prefect's `with_options` builds a plain `Flow`: the copy keeps this class, whose
        # only difference is the method above)
        copy = super().with_options(**options)
        copy.__class__ = type(self)
        return copy


def run_flow(name: str) -> Callable[[Callable], PlainParameterFlow]:
    """`@flow(name=name, log_prints=False)` for a run flow (its parameters through `plain_json`)."""
    return lambda function: PlainParameterFlow(fn=function, name=name, log_prints=False)
