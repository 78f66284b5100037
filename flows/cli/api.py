"""`tariffcost api status|stop`: the shared local Prefect API that `run` and `backfill` start
and reuse (flows/run/shared_api.py), and this user's warm runners that `run` starts and
hands itself to (flows/run/warm.py)."""

from __future__ import annotations

import typer

from flows.cli.base import API_STATUS_EXIT_CODES, API_STOP_EXIT_CODES, Command, Group, app, fail

api_app = typer.Typer(
    cls=Group,
    help="The shared local Prefect API that `run` and `backfill` start and reuse, and the warm runners of `run`.",
    no_args_is_help=True,
)
app.add_typer(api_app, name="api")


@api_app.command("status", cls=Command, epilog=API_STATUS_EXIT_CODES)
def api_status() -> None:
    """Show this user's warm runners and this Prefect home's shared local Prefect API (exit 1 without one)."""
    from flows.run.shared_api import prefect_home, shared_status
    from flows.run.warm import runners

    for runner in runners():
        typer.echo(
            f"warm runner pid {runner['pid']}: {runner['socket']}, started {runner.get('started_at', '?')}, "
            f"Prefect home {runner.get('prefect_home') or '(default)'}, "
            f"stops after {float(runner.get('idle_timeout_s', 0)):.0f} s idle"
        )
    state = shared_status()
    if state is None:
        raise fail(f"tariffcost: no shared Prefect API is running for {prefect_home()}")
    typer.echo(
        f"shared Prefect API {state['url']}: pid {state['pid']}, started {state.get('started_at', '?')}, "
        f"Prefect {state.get('prefect_version', '?')}, "
        f"stops after {float(state.get('idle_timeout_s', 0)):.0f} s idle, "
        f"{'answering' if state['answers'] else 'NOT answering'} (log {state.get('log', '?')})"
    )


@api_app.command("stop", cls=Command, epilog=API_STOP_EXIT_CODES)
def api_stop() -> None:
    """Stop this Prefect home's shared local Prefect API and this user's warm runners (none is no error)."""
    from flows.run.shared_api import prefect_home, stop_shared
    from flows.run.warm import stop_runners

    for runner in stop_runners():
        typer.echo(f"stopped the warm runner pid {runner['pid']} ({runner['socket']})")
    state = stop_shared()
    if state is None:
        typer.echo(f"no shared Prefect API was running for {prefect_home()}")
    else:
        typer.echo(f"stopped the shared Prefect API {state['url']} (pid {state['pid']})")
