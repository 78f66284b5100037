"""Running months: the Prefect flows (sequential and on a Dask cluster), the month lifecycle and
Prefect's local API."""
