"""README.md cannot drift: every fenced block of the README is executed against the embedded
sample, backfilled once per session the way `make run` does it (tests/conftest.py
`sample_backfill`, in a temporary folder that stands in for the repository's `data/`).

How a block is treated, by its fence's info string:
- none, `bash` or `sh`: shell commands, one a line (`# …` comments dropped, `\\` continues a
  line); each must exit 0. A block whose lines start with `$ ` is a transcript: each command is
  run and its output must equal the lines under it.
- `python`: executed with the temporary folder as the working directory.
- `sql`: each statement run on the backfilled warehouse (read-only); each must return rows.
- `text`: a synopsis or listing, not run.
- `csv`, `toml`: a file's contents (the custom map example), written out and run by
  tests/broker/test_es003.py from the README itself.
A block preceded by `<!-- readme-test: skip (reason) -->` is skipped with that reason (kept
for commands that need a server, cron or a cluster). The README's placeholder inputs
(`my_entries.csv`, `my_vins.csv`, `entries.parquet`) are made from the sample: the 2025-10
customs lines the backfill accepted, their vehicles, and the whole customs file."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows import config
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>.+?)\)\s*-->")
FENCE = re.compile(r"^```(?P<info>[\w-]*)\s*$")
SHELL = {"", "bash", "sh"}
MAX_SKIPS = 4
PLACEHOLDER_MONTH = "2025-10"


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    info: str
    text: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}:{self.info or 'shell'}"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of `text`, with the skip reason of a `readme-test: skip` comment that
    precedes a block (only blank lines between)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = SKIP.search(before)
        blocks.append(Block(i + 1, opening["info"], "\n".join(lines[i + 1:end]), skip["reason"] if skip else None))
        i = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def shell_commands(text: str) -> list[str]:
    """A block's commands: `\\`-continued lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            commands.append(shlex.join(words))
    return commands


def transcript(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line of a transcript block."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line.rstrip())
    return steps


def expected_exit(text: str, command: str) -> int:
    """The exit code a README command is documented with: `# exit N` at the end of its line
    (e.g. `validate` on a file with problems), else 0."""
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words and shlex.join(words) == command:
            found = re.search(r"#\s*exit (\d+)\b", line)
            return int(found.group(1)) if found else 0
    return 0


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    if words[0] == "tariffcost":
        words[0] = str(Path(sys.executable).parent / "tariffcost")
    elif words[0] == ".venv/bin/python":
        words[0] = sys.executable
    return words


def _run(command: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(_argv(command), cwd=workdir, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def workdir(sample_backfill) -> Path:
    """The backfill's folder with the README's placeholder inputs made from the sample."""
    root = sample_backfill.root
    customs = pl.read_parquet(config.SAMPLE_CUSTOMS).with_row_index("row_number", offset=1)
    con = duckdb.connect(str(sample_backfill.db), read_only=True)
    try:
        rejected = con.sql("SELECT DISTINCT row_number FROM rejects WHERE run_id LIKE $run AND source LIKE '%customs%'",
                           params={"run": f"%-{PLACEHOLDER_MONTH}"}).pl()
    finally:
        con.close()
    month = customs.filter(pl.col("entry_date").str.starts_with(PLACEHOLDER_MONTH)
                           & ~pl.col("row_number").is_in(rejected.get_column("row_number").implode()))
    month.drop("row_number").write_csv(root / "my_entries.csv")
    vehicles = pl.read_parquet(config.SAMPLE_VEHICLES).join(
        month.select("entry_number", "line_number"), on=["entry_number", "line_number"], how="semi")
    vehicles.write_csv(root / "my_vins.csv")
    (root / "entries.parquet").write_bytes(config.SAMPLE_CUSTOMS.read_bytes())
    # the broker's path runs on the shipped ES-003-style sample, named as in the repo
    (root / "data" / "sample").mkdir(parents=True, exist_ok=True)
    for name in ("es003_2025-10.csv", "es003_2025-10.xlsx"):
        (root / "data" / "sample" / name).write_bytes((config.SAMPLE_CUSTOMS.parent / name).read_bytes())
    return root


def _params(kind: set[str]) -> list:
    return [pytest.param(b, id=b.id, marks=[pytest.mark.skip(reason=b.skip)] if b.skip else [])
            for b in BLOCKS if b.info in kind]


@pytest.mark.slow
@pytest.mark.parametrize("block", _params(SHELL))
def test_shell_block(block: Block, workdir: Path, sample_backfill):
    steps = transcript(block.text)
    if steps:
        for command, expected in steps:
            result = _run(command, workdir, sample_backfill.env)
            assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stderr}"
            assert [line.rstrip() for line in result.stdout.rstrip("\n").splitlines()] == expected, command
        return
    for command in shell_commands(block.text):
        result = _run(command, workdir, sample_backfill.env)
        expected = expected_exit(block.text, command)
        assert result.returncode == expected, (
            f"{command}: exit {result.returncode}, not {expected}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


@pytest.mark.slow
@pytest.mark.parametrize("block", _params({"python"}))
def test_python_block(block: Block, workdir: Path, monkeypatch):
    monkeypatch.chdir(workdir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block.text, block.id, "exec"), {"__name__": "readme"})  # noqa: S102 - the README's own code
    assert out.getvalue().strip(), f"{block.id} printed nothing"


def sql_statements(text: str) -> list[str]:
    without_comments = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in without_comments.split(";") if s.strip()]


@pytest.mark.slow
@pytest.mark.parametrize("block", _params({"sql"}))
def test_sql_block(block: Block, workdir: Path):
    con = duckdb.connect(str(workdir / "data" / "warehouse.duckdb"), read_only=True)
    try:
        for statement in sql_statements(block.text):
            assert con.sql(statement).fetchall(), f"{block.id}: no rows from\n{statement}"
    finally:
        con.close()


def test_every_block_is_run_or_skipped_with_a_reason():
    kinds = SHELL | {"python", "sql", "text", "csv", "toml"}
    assert [b.id for b in BLOCKS if b.info not in kinds] == []
    skipped = [b for b in BLOCKS if b.skip]
    assert len(skipped) <= MAX_SKIPS, [b.id for b in skipped]
    assert any(b.info in SHELL and not b.skip for b in BLOCKS) and any(b.info == "sql" for b in BLOCKS)


def test_block_parsing():
    text = "intro\n\n<!-- readme-test: skip (needs a server) -->\n\n```\nserve\n```\n```sql\nSELECT 1;\n```\n"
    assert readme_blocks(text) == [Block(5, "", "serve", "needs a server"), Block(8, "sql", "SELECT 1;", None)]
    assert shell_commands("a --x 1   # note\n\n# only a comment\nb \\\n    --y 2\n") == ["a --x 1", "b --y 2"]
    assert expected_exit("a --x 1   # exit 1: problems listed\nb\n", "a --x 1") == 1
    assert expected_exit("a --x 1   # exit 1: problems listed\nb\n", "b") == 0
    assert transcript("$ q --v 1\nout 1  \n  out 2\n") == [("q --v 1", ["out 1", "  out 2"])]
    assert sql_statements("-- c\nSELECT 1;\n-- d\nSELECT 2\n;") == ["SELECT 1", "SELECT 2"]


def test_deployment_name_matches_the_code():
    """The README names the deployment `serve` registers: the flow's name / `--name`'s default."""
    import inspect

    from flows.cli import batch
    from flows.run.monthly import monthly_duty_run

    default = inspect.signature(batch.serve).parameters["name"].default
    name = f"{monthly_duty_run.name}/{default}"
    text = README.read_text(encoding="utf-8")
    assert f"`{name}`" in text and f"deployment run '{name}'" in text
    others = re.findall(r"deployment run '([^']*)'", text)
    assert set(others) == {name}
