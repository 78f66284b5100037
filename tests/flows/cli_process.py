"""The `tariffcost` command as a real process, for tests that must not depend on the inside
layout of flows/: the command line, its exit code, stdout and stderr, and the files it
leaves. Prefect's home is the session's temporary folder (tests/conftest.py sets it in the
environment the child inherits) and analytics are off."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "flows.cli"]


def child_env(api_url: str | None = None, **extra: str) -> dict[str, str]:
    # COLUMNS: wide enough that Typer's boxed errors never wrap a path
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="500", **extra)
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def tariffcost(*args: object, api_url: str | None = None, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run `tariffcost ARGS` to its end; `api_url`: report to that Prefect API instead of
    starting the temporary one (saves its start-up in tests that are not about it)."""
    return subprocess.run(
        [*COMMAND, *map(str, args)], cwd=REPO, env=child_env(api_url, **env),
        capture_output=True, text=True, timeout=timeout,
    )


def start(*args: object, output: Path, api_url: str | None = None, **env: str) -> subprocess.Popen:
    """Start `tariffcost ARGS` in a session of its own (a process group the test can signal),
    stdout and stderr to `output`.out / `output`.err (files, not pipes: a child process that
    outlived the command would hold a pipe open)."""
    with open(f"{output}.out", "w") as out, open(f"{output}.err", "w") as err:
        return subprocess.Popen(
            [*COMMAND, *map(str, args)], cwd=REPO, env=child_env(api_url, **env),
            stdout=out, stderr=err, text=True, start_new_session=True,
        )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def live_tree(root: Path) -> dict[str, str]:
    """The files a reader sees under `root` (staging and trash folders start with a dot)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): sha(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def listed_segments(db: Path) -> dict[str, str]:
    """The segment files the warehouse's catalog lists (live and retired), by relative path,
    with their digests: what a reader of the catalog can see of the store."""
    if not db.exists():
        return {}
    import duckdb

    con = duckdb.connect(":memory:")  # a private instance: never DuckDB's cached one
    try:
        try:
            con.execute("ATTACH ? AS w (READ_ONLY)", [str(db)])
        except duckdb.Error:
            return {}  # not a warehouse (a corrupt file): its bytes are compared by `published`
        files = [f for (f,) in con.sql(
            "SELECT file FROM w.tariffcost.segments UNION ALL SELECT file FROM w.tariffcost.retired_segments").fetchall()]
    finally:
        con.close()
    store = db.with_name(db.name + ".d")
    return {f: sha(store / f) for f in sorted(files)}


def published(db: Path, exports: Path) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """The warehouse's catalog bytes, every export and report file, and every segment file the
    catalog lists: what a failed run must keep."""
    return (sha(db) if db.exists() else None), live_tree(exports), listed_segments(db)
