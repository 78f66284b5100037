"""Presenting a run: the terminal summary, progress, Prefect artifacts and the HTML report."""
