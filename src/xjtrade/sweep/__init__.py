"""Sweeps: grids of scenarios computed as plain function calls on a dask.distributed cluster.

`grid` expands and validates grid files, `cluster` connects to dask and runs any list of tasks
(`run_tasks`), `runner` runs a grid with a result cache, `edition` writes the comparison site.
"""

from xjtrade.sweep.cluster import Outcome, connect, run_tasks  # noqa: F401
