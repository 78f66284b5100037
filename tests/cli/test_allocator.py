"""flows/allocator.py: the console script's allocator setting reaches Polars whether the
command is started from a shell (nothing set), by a Python process that imported Polars (its
settings inherited), or with the user's own value (kept)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flows.allocator import ALLOCATOR_CONF, ALLOCATOR_ENV, POLARS_OWN_CONF

SHOW = (
    "import os; from flows.allocator import configure_allocator; configure_allocator(); "
    f"import polars; print(os.environ[{ALLOCATOR_ENV!r}])"
)


def _env_after_polars(value: str | None, code: str = SHOW) -> str:
    env = {k: v for k, v in os.environ.items() if k != ALLOCATOR_ENV}
    if value is not None:
        env[ALLOCATOR_ENV] = value
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                            check=True)
    return result.stdout.strip()


def test_polars_own_settings_are_what_import_polars_writes():
    # the value taken as "not set by the user" must be the one this Polars writes
    assert _env_after_polars(None, f"import os, polars; print(os.environ[{ALLOCATOR_ENV!r}])") == POLARS_OWN_CONF


@pytest.mark.parametrize("inherited", [None, POLARS_OWN_CONF])
def test_the_setting_wins_from_a_shell_or_under_a_parent_that_imported_polars(inherited):
    # Polars appends the variable to its own settings: the last value of a key wins
    assert _env_after_polars(inherited).endswith("," + ALLOCATOR_CONF)


def test_a_value_the_user_set_is_kept():
    assert _env_after_polars("dirty_decay_ms:0").endswith(",dirty_decay_ms:0")
    assert ALLOCATOR_CONF not in _env_after_polars("dirty_decay_ms:0")
