"""The `xjtrade` command line."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import click

from xjtrade.project import ProjectNotFound, find_project
from xjtrade.errors import DataValidationError


def _log(msg: str) -> None:
    click.echo(f"  - {msg}", err=True)


def _project():
    try:
        return find_project()
    except ProjectNotFound as exc:
        raise click.ClickException(str(exc)) from None


def _as_of_option(f):
    return click.option("--as-of", "as_of", metavar="YYYY-MM-DD", default=None,
                        help="Use only figures published on or before this date.")(f)


def _check_date(as_of: str | None) -> str | None:
    if as_of is None:
        return None
    import datetime as dt
    import re
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
            raise ValueError(as_of)
        dt.date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter(f"{as_of!r} is not a date YYYY-MM-DD", param_hint="--as-of") from None
    return as_of


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xjtrade")
def main() -> None:
    """Xinjiang Trade Monitor: sourced trade figures, models and the published report."""
    # SIGTERM (a CI timeout, `kill`, a container stop) behaves like Ctrl-C: staging folders are
    # removed, notebook workers and their kernels are stopped, earlier outputs stay as they were.
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
        click.get_current_context().call_on_close(
            lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous))


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@main.group()
def data() -> None:
    """Validate and build the processed data."""


def _print_summary(summary: dict) -> None:
    click.echo(f"reported figures : {summary['reported_rows']} rows from {summary['sources']} sources "
               f"({summary['sources_listed']} listed)")
    click.echo(f"years covered    : {summary['first_year']}-{summary['last_year']} "
               f"({summary['years_covered']} distinct years)")
    click.echo(f"entities         : {summary['entities']}")
    methods = ", ".join(f"{k} {v}" for k, v in summary["derived_by_method"].items())
    click.echo(f"derived figures  : {summary['derived_rows']} ({methods})")
    click.echo(f"selected figures : {summary['selected_figures']} (one per quantity)")
    click.echo(f"data quality     : {summary['quality_issues']} issues: {summary['conflicts']} conflicts, "
               f"{summary['warnings']} warnings, {summary['notes']} notes")
    if summary.get("as_of"):
        click.echo(f"as of            : {summary['as_of']}")


@data.command("check")
@_as_of_option
def data_check(as_of: str | None) -> None:
    """Validate data/raw and print a summary (writes nothing)."""
    from xjtrade.data.processed import prepare
    project = _project()
    try:
        ds = prepare(project.raw, as_of=_check_date(as_of), log=_log)
    except DataValidationError as exc:
        raise click.ClickException(str(exc)) from None
    _print_summary(ds.summary())


@data.command("build")
@_as_of_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default data/processed).")
def data_build(as_of: str | None, out: Path | None) -> None:
    """Validate, clean and write data/processed (atomically)."""
    from xjtrade.data.processed import build_dataset
    project = _project()
    target = out or project.processed
    t0 = time.perf_counter()
    try:
        ds = build_dataset(project.raw, target, as_of=_check_date(as_of), log=_log)
    except DataValidationError as exc:
        raise click.ClickException(f"{exc}\nNothing was written; {target} is unchanged.") from None
    _print_summary(ds.summary())
    click.echo(f"wrote {target} in {time.perf_counter() - t0:.1f} s")


def _load_params(params_file: Path | None, overrides: tuple[str, ...]):
    from xjtrade.report.params import ParameterError, load_params, parse_overrides
    project = _project()
    path = params_file or project.params / "default.yaml"
    try:
        return project, load_params(path, parse_overrides(overrides))
    except ParameterError as exc:
        raise click.ClickException(str(exc)) from None


def _params_options(f):
    f = click.option("-p", "--param", "overrides", multiple=True, metavar="KEY=VALUE",
                     help="Override one parameter (repeatable); the value is read as YAML.")(f)
    return click.option("--params", "params_file", type=click.Path(path_type=Path), default=None,
                        help="Parameter file (default params/default.yaml).")(f)


def _run(project, params, jobs: int):
    from xjtrade.report.params import ParameterError
    from xjtrade.report.run import RunError, run_notebooks
    try:
        return run_notebooks(project, params, log=_log, jobs=jobs)
    except (RunError, ParameterError) as exc:
        raise click.ClickException(str(exc)) from None
    except DataValidationError as exc:
        raise click.ClickException(f"{exc}\nNothing was run.") from None
    except OSError as exc:  # an unwritable or full output folder
        raise click.ClickException(f"run failed: {exc}\nThe previous run folder is unchanged.") from None


@main.command("run")
@_params_options
@click.option("--jobs", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Notebooks run side by side.")
def run_cmd(params_file: Path | None, overrides: tuple[str, ...], jobs: int) -> None:
    """Execute the notebooks with one validated parameter set into reports/runs/<name>/."""
    project, params = _load_params(params_file, overrides)
    t0 = time.perf_counter()
    result = _run(project, params, jobs)
    click.echo(f"run '{params.name}' written to {result.folder} in {time.perf_counter() - t0:.1f} s")


def _engine_option(f):
    return click.option("--engine", type=click.Choice(["auto", "quarto", "portable"]), default="auto",
                        show_default=True, help="Renderer: Quarto if found (auto), or the portable one.")(f)


@main.command("render")
@_params_options
@_engine_option
def render_cmd(params_file: Path | None, overrides: tuple[str, ...], engine: str) -> None:
    """Render an executed run (reports/runs/<name>/) into reports/<name>/: HTML site and PDF."""
    from xjtrade.pipeline import compute_keys, run_manifest
    from xjtrade.report.publish import publish
    from xjtrade.report.render import RenderError
    from xjtrade.report.run import RunError, notebooks_in
    project, params = _load_params(params_file, overrides)
    run_dir = project.runs / params.name
    if not (run_dir / "results.json").exists():
        raise click.ClickException(f"no executed run in {run_dir}: run `xjtrade run` first "
                                   "(or `xjtrade build` to do everything)")
    try:
        keys = compute_keys(project, params, engine, notebooks_in(project.notebooks))
    except RunError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = run_manifest(project, params, keys, run_dir)
    try:
        out = publish(project, run_dir, manifest, engine=engine, log=_log)
    except RenderError as exc:
        raise click.ClickException(f"render failed; the previous report is unchanged\n{exc}") from None
    except OSError as exc:  # an unwritable or full output folder
        raise click.ClickException(f"render failed: {exc}\nThe previous report is unchanged.") from None
    click.echo(f"report written to {out}")


@main.command("build")
@_params_options
@_engine_option
@click.option("--force", is_flag=True, help="Rebuild every step even if its inputs are unchanged.")
@click.option("--jobs", type=click.IntRange(1, 8), default=2, show_default=True)
def build_cmd(params_file: Path | None, overrides: tuple[str, ...], engine: str, force: bool, jobs: int) -> None:
    """Data, run and render in one go; steps whose inputs are unchanged are skipped."""
    from xjtrade.report.params import ParameterError
    from xjtrade.pipeline import build
    from xjtrade.report.render import RenderError
    from xjtrade.report.run import RunError
    project, params = _load_params(params_file, overrides)
    try:
        report = build(project, params, force=force, engine=engine, jobs=jobs, log=_log)
    except (RunError, ParameterError) as exc:
        raise click.ClickException(str(exc)) from None
    except RenderError as exc:
        raise click.ClickException(f"render failed; the previous report is unchanged\n{exc}") from None
    except DataValidationError as exc:
        raise click.ClickException(f"{exc}\nNothing was built; earlier outputs are unchanged.") from None
    except OSError as exc:  # an unwritable or full output folder
        raise click.ClickException(f"build failed: {exc}\nEarlier outputs are unchanged.") from None
    if not report.ran:
        click.echo(f"nothing to do: inputs unchanged since the last build of '{params.name}' "
                   f"({report.seconds:.2f} s); report in {report.report_dir}")
    else:
        click.echo(f"built '{params.name}' in {report.seconds:.1f} s: ran {', '.join(report.ran)}"
                   + (f"; unchanged: {', '.join(report.skipped)}" if report.skipped else ""))
        click.echo(f"report: {report.report_dir / 'site' / 'index.html'}")


@main.command("sweep")
@click.argument("grid_file", type=click.Path(path_type=Path))
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Use this running dask scheduler (default: a local cluster, one worker process per core).")
@click.option("--workers", "n_workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes of the local cluster (default: the cores of this machine).")
@click.option("--search-every-origin", is_flag=True,
              help="Search the ARIMA order again at every backtest origin (as the book does; slower).")
def sweep_cmd(grid_file: Path, scheduler: str | None, n_workers: int | None, search_every_origin: bool) -> None:
    """Run every scenario of a grid file on a dask cluster into reports/sweeps/<grid>/."""
    from xjtrade.sweep.grid import GridError
    from xjtrade.sweep.runner import run_sweep
    project = _project()
    if scheduler and n_workers:
        raise click.BadParameter("--workers sizes the local cluster; it cannot be used with --scheduler",
                                 param_hint="--workers")
    try:
        report = run_sweep(project, grid_file, scheduler=scheduler, n_workers=n_workers,
                           select_once=not search_every_origin, log=_log)
    except GridError as exc:
        raise click.ClickException(f"{exc}\nNothing was run.") from None
    except DataValidationError as exc:
        raise click.ClickException(f"{exc}\nNothing was run.") from None
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sweep '{report.grid}': {report.scenarios} scenarios ({report.computed} computed, "
               f"{report.cached} from the cache, {len(report.failed)} failed) in {report.seconds:.1f} s")
    click.echo(f"results: {report.out_dir / 'results.csv'}; comparison: {report.out_dir / 'index.html'}")
    if report.failed:
        click.echo(f"{len(report.failed)} scenario(s) failed: "
                   + ", ".join(f["scenario"] for f in report.failed) + f" (see {report.out_dir / 'failures.csv'})",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
