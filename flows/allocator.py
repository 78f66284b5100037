"""How Polars' memory allocator returns freed memory, set before Polars is first imported.

Polars' allocator (jemalloc, prefix _RJEM_) hands freed pages back with MADV_FREE after a
second (Polars' own setting, muzzy_decay_ms:1000), which leaves them counted as resident until
the kernel wants them: a large month's load stage frees its raw text while the staged frame is
built, and the process's peak then counts both. Returning them at once (muzzy_decay_ms:0,
appended to Polars' own settings, so it wins) keeps the same CPU: 5M lines, peak 3.90 -> 3.52
GiB (bench/stage_profile.py). jemalloc reads the setting once, when Polars loads.

A value the user set is kept. `import polars` writes its own settings into the environment
when it finds none there (polars/__init__.py), so a command started by a Python process that
imported Polars (a scheduler, a test, the benchmark) inherits them: exactly those are taken as
unset. (Until this was known the benchmark measured the command with Polars' settings: a peak
of 3.90 GiB at 5M lines where a command started from a shell peaks at 3.47 GiB.)
"""

from __future__ import annotations

import os

ALLOCATOR_ENV = "_RJEM_MALLOC_CONF"
ALLOCATOR_CONF = "muzzy_decay_ms:0"
# what `import polars` (2.1) writes when the variable is unset
POLARS_OWN_CONF = "dirty_decay_ms:500,muzzy_decay_ms:1000"


def configure_allocator() -> None:
    """Set the allocator's default (call before anything imports Polars)."""
    if os.environ.get(ALLOCATOR_ENV) in (None, "", POLARS_OWN_CONF):
        os.environ[ALLOCATOR_ENV] = ALLOCATOR_CONF
