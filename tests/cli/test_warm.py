"""The warm runner (flows/run/warm.py, flows/run/warm_server.py): `tariffcost run` handed to a
long-lived process that forks the run, as real processes. A run through it publishes what a run
in its own process publishes and prints the same; exit codes, Ctrl-C and the command's death
reach the run; the runner is keyed by the environment and private to its user.

Every command here uses one environment (a private Prefect home with its shared API, a private
runner folder, the test hook pausing each run 1.5 s before its marts so a signal can land
there), so they share one runner, stopped at the end by `tariffcost api stop`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from flows.run import warm
from tests.flows.cli_process import published, start, tariffcost

REPO = Path(__file__).resolve().parents[2]
MONTH = "2025-10"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runner_env():
    folder = Path(tempfile.mkdtemp(prefix="tcw-"))  # short: a socket's path has at most 107 bytes
    env = {
        "TARIFFCOST_WARM": "on", "TARIFFCOST_WARM_DIR": str(folder / "run"), "TARIFFCOST_WARM_IDLE_SECONDS": "300",
        "TARIFFCOST_PREFECT_API": "shared", "PREFECT_HOME": str(folder / "prefect"),
        "TARIFFCOST_TEST_PAUSE_AT": "compute", "TARIFFCOST_TEST_PAUSE_FILE": str(folder / "paused"),
        "TARIFFCOST_TEST_PAUSE_SECONDS": "1.5",
        "PYTEST_CURRENT_TEST": "test_warm",  # pytest changes it per test: the runner would be another
    }
    yield folder, env
    stopped = tariffcost("api", "stop", **env)
    assert stopped.returncode == 0, stopped.stderr
    assert not warm.runners(folder / "run")
    shutil.rmtree(folder, ignore_errors=True)


def _run(work: Path, env: dict, *extra: str, rusage: Path | None = None) -> subprocess.CompletedProcess:
    more = {"TARIFFCOST_WARM_RUSAGE": str(rusage)} if rusage else {}
    return tariffcost(*_run_args(work), *extra, **env, **more)


def _run_args(work: Path) -> tuple:
    return "run", "--month", MONTH, "--db", work / "warehouse.duckdb", "--exports", work / "exports"


def _serving(folder: Path, timeout_s: float = 120) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = warm.runners(folder)
        if found and Path(found[0]["socket"]).exists():
            return found
        time.sleep(0.1)
    raise AssertionError(f"no warm runner serving in {folder} after {timeout_s} s")


def _summary(stdout: str) -> list[str]:
    """The printed summary without what differs between two runs (run id, times, paths)."""
    return [line for line in stdout.splitlines() if "run 2" not in line and "time:" not in line and "/" not in line]


def test_the_first_run_starts_the_runner_and_the_next_runs_in_it_with_the_same_outcome(runner_env, tmp_path):
    folder, env = runner_env
    here_usage, warm_usage = tmp_path / "here.json", tmp_path / "warm.json"
    here = _run(tmp_path / "here", env, rusage=here_usage)
    assert here.returncode == 0, here.stderr
    assert not here_usage.exists(), "the first run had no runner to hand itself to"
    (runner,) = _serving(folder / "run")
    assert runner["prefect_home"] == env["PREFECT_HOME"]

    handed = _run(tmp_path / "warm", env, rusage=warm_usage)
    assert handed.returncode == 0, handed.stderr
    usage = json.loads(warm_usage.read_text())
    assert usage["maxrss_kib"] > 50_000 and usage["utime_s"] > 0, usage  # the forked run's, not the command's
    assert _summary(handed.stdout) == _summary(here.stdout)
    assert "SUCCESS" in handed.stdout
    compared = subprocess.run(
        [sys.executable, "scripts/compare_outputs.py", "--golden", str(tmp_path / "here"),
         "--db", str(tmp_path / "warm" / "warehouse.duckdb"), "--exports", str(tmp_path / "warm" / "exports")],
        cwd=REPO, capture_output=True, text=True,
    )
    assert compared.returncode == 0 and "identical" in compared.stdout, compared.stdout + compared.stderr
    assert warm.runners(folder / "run")[0]["pid"] == runner["pid"]  # the same runner throughout


def test_exit_codes_and_messages_come_back_from_the_runner(runner_env, tmp_path):
    folder, env = runner_env
    _serving(folder / "run")
    usage = tmp_path / "usage.json"
    bad_month = _run(tmp_path, env, "--month", "2025-13", rusage=usage)
    assert bad_month.returncode == 2
    assert "2025-13" in bad_month.stderr
    assert usage.exists()  # handed over: the runner's forked process printed that

    customs = tmp_path / "customs.csv"
    customs.write_text("entry_number,line_number\nABC-1234567-8,1\n")
    usage.unlink()
    failed = _run(tmp_path, env, "--customs", str(customs), rusage=usage)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAILED" in failed.stdout and "Traceback" not in failed.stderr, failed.stdout + failed.stderr
    assert usage.exists()
    assert published(tmp_path / "warehouse.duckdb", tmp_path / "exports")[1:] == ({}, {})


def _paused_run(runner_env, tmp_path: Path) -> tuple[Path, subprocess.Popen, int]:
    """A run handed to the runner, stopped at its pause point: its folder, the command, and the
    pid of the process running it."""
    folder, env = runner_env
    _serving(folder / "run")
    work = tmp_path / "w"
    work.mkdir()
    marker = Path(env["TARIFFCOST_TEST_PAUSE_FILE"])
    marker.unlink(missing_ok=True)
    command = start(*_run_args(work), output=work / "command", **env)
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the run never reached its pause point"
    run_pid = int(marker.read_text().split()[0])
    assert run_pid != command.pid  # the forked process runs it, not the command
    return work, command, run_pid


def _gone(pid: int, timeout_s: float = 60) -> bool:
    """Whether `pid` ended within `timeout_s` (a zombie, ended but not yet reaped by this
    test process that started it, counts as ended)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _state(pid) in ("Z", "X"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_ctrl_c_of_the_command_interrupts_the_run_and_nothing_is_published(runner_env, tmp_path):
    work, command, run_pid = _paused_run(runner_env, tmp_path)
    os.kill(command.pid, signal.SIGINT)
    assert command.wait(timeout=120) == 130
    assert "interrupted by SIGINT" in (work / "command.err").read_text()
    assert _gone(run_pid)
    assert published(work / "warehouse.duckdb", work / "exports")[1:] == ({}, {})


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]


def test_ctrl_z_stops_the_run_with_the_command_and_fg_resumes_both(runner_env, tmp_path):
    work, command, run_pid = _paused_run(runner_env, tmp_path)
    os.kill(command.pid, signal.SIGTSTP)
    deadline = time.monotonic() + 30
    while not (_state(run_pid) == "T" and _state(command.pid) == "T") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (_state(run_pid), _state(command.pid)) == ("T", "T")
    time.sleep(2)  # longer than the pause: a run that was not stopped would go on meanwhile
    assert _state(run_pid) == "T"
    os.kill(command.pid, signal.SIGCONT)
    assert command.wait(timeout=120) == 0, (work / "command.err").read_text()
    assert "SUCCESS" in (work / "command.out").read_text()


def test_a_command_killed_outright_takes_its_run_with_it_and_the_next_run_goes_ahead(runner_env, tmp_path):
    work, command, run_pid = _paused_run(runner_env, tmp_path)
    before = published(work / "warehouse.duckdb", work / "exports")
    os.kill(command.pid, signal.SIGKILL)
    command.wait(timeout=30)
    assert _gone(run_pid, timeout_s=5), "the run went on without its command"
    assert published(work / "warehouse.duckdb", work / "exports") == before  # nothing published
    assert warm.runners(runner_env[0] / "run"), "the runner itself keeps serving"
    # at once: the killed run holds no lock, and what it left is cleaned up by the next run
    again = _run(work, runner_env[1])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "SUCCESS" in again.stdout


def test_a_run_outlives_its_runner_and_its_exit_code_still_comes_back(runner_env, tmp_path):
    # the last test of the module's runner: it kills it
    work, command, run_pid = _paused_run(runner_env, tmp_path)
    (runner,) = warm.runners(runner_env[0] / "run")
    os.kill(runner["pid"], signal.SIGKILL)
    assert command.wait(timeout=120) == 0, (work / "command.err").read_text()
    assert "SUCCESS" in (work / "command.out").read_text()
    assert "warm runner ended" not in (work / "command.err").read_text()


def test_the_runner_is_keyed_by_the_environment_not_by_what_a_shell_changes_between_commands():
    env = {"PREFECT_HOME": "/a", "PATH": "/usr/bin"}
    key = warm.runner_key(env)
    assert warm.runner_key(dict(env)) == key
    assert warm.runner_key({**env, "PWD": "/elsewhere", "_": "/usr/bin/x", "SHLVL": "3"}) == key
    assert warm.runner_key({**env, "TARIFFCOST_WARM_RUSAGE": "/tmp/u.json"}) == key
    assert warm.runner_key({**env, "PREFECT_HOME": "/b"}) != key
    assert warm.runner_key({**env, "PREFECT_API_URL": "http://h/api"}) != key


def test_the_runner_is_keyed_by_the_prefect_settings_files_it_would_read(tmp_path, monkeypatch):
    env = {"PREFECT_HOME": str(tmp_path / "home"), "PATH": "/usr/bin"}
    monkeypatch.chdir(tmp_path)
    bare = warm.runner_key(env)
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://127.0.0.1:4200/api"\n')
    with_toml = warm.runner_key(env)
    assert with_toml != bare  # Prefect reads the working directory's prefect.toml when imported
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "prefect.toml").write_text((tmp_path / "prefect.toml").read_text())
    monkeypatch.chdir(elsewhere)
    assert warm.runner_key(env) == with_toml  # the same settings from another folder: the same runner
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "profiles.toml").write_text('active = "remote"\n')
    assert warm.runner_key(env) != with_toml  # the active profile too


def test_only_run_is_handed_over_and_off_means_off():
    assert warm.enabled(["tariffcost", "run", "--month", "2025-10"], {})
    assert not warm.enabled(["tariffcost", "run", "--help"], {})
    assert not warm.enabled(["tariffcost", "backfill", "--from", "2025-01", "--to", "2025-02"], {})
    assert not warm.enabled(["tariffcost", "quote"], {})
    for off in ("off", "0", "no", "false", "OFF"):
        assert not warm.enabled(["tariffcost", "run"], {"TARIFFCOST_WARM": off})


def test_the_runners_folder_is_the_users_runtime_folder_else_tmpdir(tmp_path):
    uid = os.getuid()
    assert warm.runner_dir({"XDG_RUNTIME_DIR": str(tmp_path / "xdg"), "TMPDIR": str(tmp_path / "t")}) == (
        tmp_path / "xdg" / f"tariffcost-{uid}")
    assert warm.runner_dir({"TMPDIR": str(tmp_path / "t")}) == tmp_path / "t" / f"tariffcost-{uid}"


def test_a_runner_without_runs_exits_after_its_idle_time_and_leaves_no_socket(tmp_path, monkeypatch):
    folder = Path(tempfile.mkdtemp(prefix="tcw-"))
    try:
        monkeypatch.setenv("TARIFFCOST_WARM_IDLE_SECONDS", "2")
        key = warm.runner_key()
        warm.start_runner(folder, key)
        (runner,) = _serving(folder)
        assert runner["idle_timeout_s"] == 2
        status = tariffcost("api", "status", TARIFFCOST_WARM_DIR=str(folder))
        assert f"warm runner pid {runner['pid']}" in status.stdout
        assert _gone(runner["pid"], timeout_s=60), "the runner did not exit when idle"
        assert not warm.socket_path(folder, key).exists()
        assert warm.runners(folder) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_runner_folder_other_users_can_enter_is_not_used(tmp_path):
    shared = tmp_path / "open"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert warm.runner_dir({"TARIFFCOST_WARM_DIR": str(shared)}) is None
    private = tmp_path / "private"
    assert warm.runner_dir({"TARIFFCOST_WARM_DIR": str(private)}) == private
    assert private.stat().st_mode & 0o777 == 0o700
