"""Storage for the cluster path: local paths or fsspec URLs (`s3://…`, `gcs://…`, …).

Workers read inputs and write the month staging Parquet here; a remote input is copied once per
worker into a local cache (`simplecache`) and loaded from there, while the loaded result keeps
the URL as its `source` (`named_after`), so rejects and `runs` name where the data came from.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import fsspec
import polars as pl

from flows.inputs.kinds import is_url


def _fs(location: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, path = fsspec.core.url_to_fs(location)
    return fs, path


def join(location: str, *parts: str) -> str:
    """`location/part/…` for a path or a URL."""
    return "/".join([str(location).rstrip("/"), *parts])


def write_frame(frame: pl.DataFrame, location: str) -> str:
    """Write `frame` as one Parquet file at `location` (path or URL); returns the location."""
    fs, path = _fs(location)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    with fs.open(path, "wb") as handle:
        frame.write_parquet(handle, compression="zstd")
    return location


def read_frame(location: str) -> pl.DataFrame:
    fs, path = _fs(location)
    with fs.open(path, "rb") as handle:
        return pl.read_parquet(handle)


def remove_tree(location: str) -> None:
    fs, path = _fs(location)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def local_input(location: str | Path, cache_dir: str | None = None) -> Path:
    """A local file for an input: the path itself, or a cached local copy of a URL (copied
    once per machine and cache folder)."""
    text = str(location)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    if not is_url(text):
        return Path(text)
    cache = cache_dir or str(Path(tempfile.gettempdir()) / "tariffcost-input-cache")
    return Path(fsspec.open_local(f"simplecache::{text}", simplecache={"cache_storage": cache}))


def named_after(result: Any, location: str) -> Any:
    """A loader result whose `source` (and its rejects' `source`) is the URL it came from."""
    if not is_url(location) or not dataclasses.is_dataclass(result):
        return result
    changes: dict[str, Any] = {"source": location}
    rejects = getattr(result, "rejects", None)
    if isinstance(rejects, pl.DataFrame) and "source" in rejects.columns:
        changes["rejects"] = rejects.with_columns(source=pl.lit(location, pl.Utf8))
    return dataclasses.replace(result, **changes)
