"""`python -m flows.cli`: the tariffcost command line."""

from flows.cli import app

app()
