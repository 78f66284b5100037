"""`tariffcost api status|stop`: the shared local Prefect API that `run` and `backfill` start
and reuse (flows/run/shared_api.py)."""

from __future__ import annotations

import typer

from flows.cli.base import API_STATUS_EXIT_CODES, API_STOP_EXIT_CODES, Command, Group, app, fail

api_app = typer.Typer(
    cls=Group,
    help="The shared local Prefect API that `run` and `backfill` start and reuse.", no_args_is_help=True
)
app.add_typer(api_app, name="api")


@api_app.command("status", cls=Command, epilog=API_STATUS_EXIT_CODES)
def api_status() -> None:
    """Show the shared local Prefect API of this Prefect home (exit 1 when none is running)."""
    from flows.run.shared_api import prefect_home, shared_status

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
    """Stop the shared local Prefect API of this Prefect home (nothing to do is not an error)."""
    from flows.run.shared_api import prefect_home, stop_shared

    state = stop_shared()
    if state is None:
        typer.echo(f"no shared Prefect API was running for {prefect_home()}")
    else:
        typer.echo(f"stopped the shared Prefect API {state['url']} (pid {state['pid']})")
