"""Vega-Lite building blocks: field definitions from shorthand, marks, conditions, and whole
single-view and layered specs with their rows inline under top-level `datasets`, written in
the form Altair's `to_dict()` gives (keys in the same order, datasets named by a hash of
their values), without importing Altair. Used by flows/present/report_charts.py."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import polars as pl

VEGA_LITE_VERSION = "v6.4.1"
SCHEMA_URL = f"https://vega.github.io/schema/vega-lite/{VEGA_LITE_VERSION}.json"
VIEW_CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300}}

FIELD_TYPES = {"N": "nominal", "O": "ordinal", "Q": "quantitative", "T": "temporal"}


def field(shorthand: str, **properties: Any) -> dict:
    """A field definition from Vega-Lite shorthand, `name:T`, `sum(name):Q` or
    `utcyearmonthdate(name):T` (an aggregate or a time unit), plus `properties` (its keys are
    sorted with the encoding it is placed in: `chart`, `layered`)."""
    name, kind = shorthand.rsplit(":", 1)
    definition: dict[str, Any] = {"type": FIELD_TYPES[kind]}
    if name.endswith(")"):
        function, name = name[:-1].split("(", 1)
        definition["timeUnit" if kind == "T" else "aggregate"] = function
    return {**definition, "field": name, **properties}


def condition(test: str, if_true: Any, otherwise: Any) -> dict:
    """A value chosen by a Vega expression (`alt.condition` with two `alt.value`s)."""
    return {"condition": {"test": test, "value": if_true}, "value": otherwise}


def mark(kind: str, **properties: Any) -> dict:
    return {"type": kind, **_sorted(properties)}


def _sorted(value: Any) -> Any:
    """Dicts with their keys sorted, at every depth (lists keep their order)."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _values(frame: pl.DataFrame) -> list[dict]:
    """The frame's rows for an inline dataset: dates as local ISO date-times."""
    iso = "%Y-%m-%dT%H:%M:%S"
    columns = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            columns.append(pl.col(name).cast(pl.Datetime).dt.to_string(iso))
        elif isinstance(dtype, pl.Datetime):
            columns.append(pl.col(name).dt.to_string(f"{iso}%.f" + ("%z" if dtype.time_zone else "")))
        else:
            columns.append(pl.col(name))
    return frame.select(columns).rows(named=True)


def _dataset(frame: pl.DataFrame, datasets: dict[str, list]) -> dict:
    """`{"name": …}` of the frame's rows, added to `datasets` under a name hashed from them."""
    values = _values(frame)
    if values == [{}]:
        name = "empty"
    else:
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
        name = "data-" + digest[:32]
    datasets.setdefault(name, values)
    return {"name": name}


def _sizes(title: str | None, width: int, height: int) -> dict:
    return {"height": height, **({"title": title} if title is not None else {}), "width": width}


def chart(frame: pl.DataFrame, mark_: dict, encoding: dict, *, title: str | None = None,
          width: int, height: int) -> dict:
    """One view of one frame: the spec Altair writes for `Chart(frame, title).mark_…()
    .encode(…).properties(width, height)`."""
    datasets: dict[str, list] = {}
    data = _dataset(frame, datasets)
    return {
        "config": VIEW_CONFIG, "data": data, "mark": mark_, "encoding": _sorted(encoding),
        **_sizes(title, width, height), "$schema": SCHEMA_URL, "datasets": datasets,
    }


def layered(layers: list[tuple[pl.DataFrame, dict, dict]], *, title: str, width: int, height: int) -> dict:
    """Views drawn over each other, each (frame, mark, encoding): the spec Altair writes for
    `layer(*charts, title).properties(width, height)` (one view's data moves to the top)."""
    datasets: dict[str, list] = {}
    views = [
        {"data": _dataset(frame, datasets), "mark": mark_, "encoding": _sorted(encoding)}
        for frame, mark_, encoding in layers
    ]
    if len(views) == 1:
        data = views[0].pop("data")
        body: dict[str, Any] = {"layer": views, "data": data}
    else:
        body = {"layer": views}
    return {"config": VIEW_CONFIG, **body, **_sizes(title, width, height), "$schema": SCHEMA_URL, "datasets": datasets}
