"""One place for paths and defaults. Paths derive from the repository root; environment
variables override them. Nothing here runs at import time beyond constant definitions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
REFERENCE_DIR = DATA_DIR / "reference"
SCHEDULE_DIR = DATA_DIR / "schedule"
DEFAULT_SCHEDULE = SCHEDULE_DIR / "default" / "schedule.toml"
SCENARIO_DIR = SCHEDULE_DIR / "scenarios"
SAMPLE_DIR = DATA_DIR / "sample"
SAMPLE_CUSTOMS = SAMPLE_DIR / "customs_lines.parquet"
SAMPLE_VEHICLES = SAMPLE_DIR / "vehicles.parquet"
REFUND_STATUS_RULES = DATA_DIR / "refunds" / "refund_status_rules.csv"
MAPS_DIR = DATA_DIR / "maps"  # shipped customs column maps (`--customs-map NAME`)

DEFAULT_MAX_REJECT_RATE = 0.01
# On a cluster, a month with more input lines than this is split into entry-hash partitions.
DEFAULT_PARTITION_LINES = 2_000_000


def shipped_scenario_names(folder: Path | None = None) -> list[str]:
    """Names of the scenarios shipped in `folder` (default SCENARIO_DIR), sorted: the files
    `<name>.toml` there."""
    folder = SCENARIO_DIR if folder is None else folder
    return sorted(path.stem for path in folder.glob("*.toml"))


def cache_dir() -> Path:
    """Where derived, rebuildable files are cached between runs (e.g. the report's JavaScript
    bundle): TARIFFCOST_CACHE, else $XDG_CACHE_HOME/tariffcost, else ~/.cache/tariffcost."""
    env = os.environ
    if env.get("TARIFFCOST_CACHE"):
        return Path(env["TARIFFCOST_CACHE"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "tariffcost"


@dataclass(frozen=True)
class Settings:
    """Runtime locations, resolved once per command from defaults and the environment."""

    db_path: Path
    exports_dir: Path
    schedule_path: Path


def settings() -> Settings:
    """Resolve settings now (not at import): TARIFFCOST_DB, TARIFFCOST_EXPORTS and
    TARIFFCOST_SCHEDULE override the repository defaults."""
    env = os.environ
    return Settings(
        db_path=Path(env.get("TARIFFCOST_DB", DATA_DIR / "warehouse.duckdb")),
        exports_dir=Path(env.get("TARIFFCOST_EXPORTS", DATA_DIR / "exports")),
        schedule_path=Path(env.get("TARIFFCOST_SCHEDULE", DEFAULT_SCHEDULE)),
    )
