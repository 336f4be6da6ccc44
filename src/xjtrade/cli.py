"""The `xjtrade` command line."""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
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
    from xjtrade.textsafe import shorten
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", as_of, re.ASCII):
            raise ValueError(as_of)
        dt.date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter(f"{shorten(repr(as_of))} is not a date YYYY-MM-DD",
                                 param_hint="--as-of") from None
    return as_of


def _os_error(exc: OSError) -> str:
    """One line for an OS error (no traceback): OSError's text names the errno and the path."""
    text = str(exc) or type(exc).__name__
    if exc.filename is not None and str(exc.filename) not in text:
        text += f": {exc.filename}"
    return text


def _check_out(project, out: Path) -> Path:
    """`--out` must be a folder `xjtrade data build` may replace as a whole: not the project, its raw data
    or git folder (or a folder holding them), not a folder of another command (a report, a run, a
    sweep: their markers say so) nor one inside reports/ or the cache, and not an existing folder
    without the marker of processed data (an unmarked folder is never adopted, wherever it is)."""
    from xjtrade.project import MARKER, why_not_owned
    target = out.expanduser().resolve()
    root = project.root.resolve()
    protected = {"the project root": root, "data/raw": project.raw.resolve(), ".git": root / ".git"}
    for what, path in protected.items():
        if target == path or target in path.parents:
            raise click.BadParameter(f"{out} {'is' if target == path else 'contains'} {what} ({path}); "
                                     "xjtrade would replace it as a whole. Nothing was written.",
                                     param_hint="--out")
    if project.raw.resolve() in target.parents or ".git" in target.parts:
        raise click.BadParameter(f"{out} is inside {'data/raw' if '.git' not in target.parts else '.git'}, "
                                 "which xjtrade never writes into. Nothing was written.", param_hint="--out")
    why = why_not_owned(target, "processed", legacy=target == project.processed.resolve())
    if why is not None and f"no {MARKER} marker" in why:
        raise click.BadParameter(f"{out} exists and was not created by xjtrade (no {MARKER} marker); "
                                 "xjtrade replaces its output folder as a whole, so it will not use this one. "
                                 "Choose a new or empty folder. Nothing was written.", param_hint="--out")
    if why is not None:
        raise click.BadParameter(f"{out} {why}; it will not replace it. Choose a new or empty folder. "
                                 "Nothing was written.", param_hint="--out")
    for what, area in (("reports/", project.reports), (".xjtrade-cache", project.cache)):
        area = area.resolve()
        if target == area or area in target.parents:
            raise click.BadParameter(f"{out} is inside {what}, whose folders belong to other commands (reports, runs, "
                                     "sweeps, the cache); choose a folder outside them. Nothing was written.",
                                     param_hint="--out")
    return target


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


def _wait_option(f):
    return click.option("--no-wait", "no_wait", is_flag=True,
                        help="If another build is running in this checkout, stop at once instead of waiting.")(f)


@contextmanager
def _locked(project, no_wait: bool):
    """One writing command at a time per checkout (.xjtrade-cache/build.lock).  A lock that cannot be
    taken (another build with --no-wait, a full or read-only disk under the cache) is a one-line error."""
    from contextlib import ExitStack
    from xjtrade.pipeline import BuildLocked, build_lock
    with ExitStack() as stack:
        try:
            stack.enter_context(build_lock(project, wait=not no_wait, log=_log))
        except BuildLocked as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot take the build lock in {project.cache}: {_os_error(exc)}\n"
                                       "Nothing was changed.") from None
        yield


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
@_wait_option
def data_build(as_of: str | None, out: Path | None, no_wait: bool) -> None:
    """Validate, clean and write data/processed (atomically)."""
    from xjtrade.pipeline import StepRecordError, data_step_cli
    project = _project()
    target = _check_out(project, out) if out is not None else project.processed
    t0 = time.perf_counter()
    with _locked(project, no_wait):  # data/processed written through the data step's record
        try:
            ds = data_step_cli(project, target, _check_date(as_of), log=_log)
        except DataValidationError as exc:
            raise click.ClickException(f"{exc}\nNothing was written; {target} is unchanged.") from None
        except StepRecordError as exc:
            raise _record_error(exc) from None
        except OSError as exc:  # an unwritable or full output folder, or one xjtrade does not own
            raise click.ClickException(f"data build failed: {_os_error(exc)}\n{target} is unchanged.") from None
    _print_summary(ds.summary())
    click.echo(f"wrote {target} in {time.perf_counter() - t0:.1f} s")


@data.command("extract")
@click.argument("source", required=False)
@click.option("--fetch", "fetch_url", metavar="URL", default=None,
              help="Fetch the page from this http(s) address (needs a network) instead of reading SOURCE.")
@click.option("--save", type=click.Path(path_type=Path), default=None,
              help="Where to keep the fetched page (default data/pages/<source id>.html).")
@click.option("--url", default=None, help="The address to cite (default: the fetched address or the page's own).")
@click.option("--published", metavar="YYYY-MM-DD", default=None,
              help="Publication date (default: from the page's metadata; refused if neither gives one).")
@click.option("--title", default=None, help="The source's title (default: the page's).")
@click.option("--publisher", default=None, help="The source's publisher (default: from the address).")
@click.option("--language", default=None, help="Language code of the page (default: detected).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Candidate CSV (default: standard output).")
def data_extract(source: str | None, fetch_url: str | None, save: Path | None, url: str | None,
                 published: str | None, title: str | None, publisher: str | None, language: str | None,
                 out: Path | None) -> None:
    """Read a release (saved HTML or text page, or - for standard input) into candidate rows (CSV)."""
    from xjtrade.data.extract import command as ex
    from xjtrade.data.extract.lexicon import LANGUAGES
    from xjtrade.project import write_text_atomic
    project = _project()
    if (source is None) == (fetch_url is None):
        raise click.UsageError("give either SOURCE (a saved page or -) or --fetch URL")
    if language is not None and language not in LANGUAGES:
        raise click.BadParameter(f"{language!r} is not one of {', '.join(LANGUAGES)}", param_hint="--language")
    try:
        if fetch_url is not None:
            data, name = ex.fetch(fetch_url), fetch_url
            url = url or fetch_url
        else:
            assert source is not None   # exactly one of SOURCE and --fetch: checked above
            data, name = ex.read_source(source)
        result = ex.extract(data, name, raw_dir=project.raw, url=url, published=published, title=title,
                            publisher=publisher, language=language)
    except ex.ExtractError as exc:
        raise click.ClickException(str(exc)) from None
    except DataValidationError as exc:
        raise click.ClickException(f"the record cannot be checked against: {exc}") from None
    if fetch_url is not None:
        saved = ex.save_copy(data, project.root, save, result.source.source_id)
        _log(f"page kept in {saved}")
    if out is None:
        click.echo(result.csv, nl=False)
    else:
        try:
            write_text_atomic(out, result.csv)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {_os_error(exc)}") from None
    s, c = result.source, result.by_confidence
    _log(f"{result.n} candidate row(s): {c['high']} high, {c['medium']} medium, {c['low']} low confidence"
         + (f"; written to {out}" if out else ""))
    _log(f"source {s.source_id} ({'new' if s.new else 'already in sources.csv'}): {s.publisher or '?'}, "
         f"{s.published}, {s.url or 'no address: pass --url before data add'}")


@data.command("add")
@click.argument("candidates", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@click.option("--accept-low", is_flag=True, help="Accept low-confidence rows that were not reviewed.")
@_wait_option
def data_add(candidates: Path, dry_run: bool, accept_low: bool, no_wait: bool) -> None:
    """Append reviewed candidate rows (and their source) to data/raw: all rows or none."""
    from xjtrade.data.extract.add import apply, plan_add
    project = _project()
    with _locked(project, no_wait):
        try:
            plan = plan_add(project.raw, candidates, accept_low=accept_low)
        except DataValidationError as exc:
            raise click.ClickException(f"{exc}\nNothing was written; data/raw is unchanged.") from None
        click.echo(plan.diff(project.raw), nl=False)
        ids = f"{plan.row_ids[0]}-{plan.row_ids[-1]}" if plan.row_ids else "none"
        if dry_run:
            click.echo(f"dry run: would add {len(plan.row_ids)} row(s) ({ids}) and {len(plan.new_sources)} "
                       "source(s); nothing was written")
            return
        try:
            apply(project.raw, plan)
        except OSError as exc:
            raise click.ClickException(f"data add failed: {_os_error(exc)}") from None
    click.echo(f"added {len(plan.row_ids)} row(s) ({ids}) and {len(plan.new_sources)} source(s) to {project.raw}")


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


def _record_error(exc) -> click.ClickException:
    return click.ClickException(str(exc))


@main.command("run")
@_params_options
@click.option("--jobs", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Notebooks run side by side.")
@_wait_option
def run_cmd(params_file: Path | None, overrides: tuple[str, ...], jobs: int, no_wait: bool) -> None:
    """Execute the notebooks with one validated parameter set into reports/runs/<name>/."""
    project, params = _load_params(params_file, overrides)   # bad parameters: said before anything heavy loads
    from xjtrade.pipeline import StepRecordError, compute_keys, data_step, run_step
    from xjtrade.report.params import ParameterError
    from xjtrade.report.run import RunError, notebooks_in
    t0 = time.perf_counter()
    with _locked(project, no_wait):
        try:
            notebooks = notebooks_in(project.notebooks)
            keys = compute_keys(project, params, "auto", notebooks)
            data_step(project, keys, None, log=_log)  # the run copies data/processed: all data, up to date
            run_step(project, params, keys, notebooks, force=True, jobs=jobs, log=_log)
        except StepRecordError as exc:
            raise _record_error(exc) from None
        except (RunError, ParameterError) as exc:
            raise click.ClickException(str(exc)) from None
        except DataValidationError as exc:
            raise click.ClickException(f"{exc}\nNothing was run.") from None
        except OSError as exc:  # an unwritable or full output folder
            raise click.ClickException(f"run failed: {_os_error(exc)}\nThe previous run folder is unchanged.") from None
    click.echo(f"run '{params.name}' written to {project.runs / params.name} in {time.perf_counter() - t0:.1f} s")


def _engine_option(f):
    return click.option("--engine", type=click.Choice(["auto", "quarto", "portable"]), default="auto",
                        show_default=True, help="Renderer: Quarto if found (auto), or the portable one.")(f)


@main.command("render")
@_params_options
@_engine_option
@_wait_option
def render_cmd(params_file: Path | None, overrides: tuple[str, ...], engine: str, no_wait: bool) -> None:
    """Render an executed run (reports/runs/<name>/) into reports/<name>/: HTML site and PDF.

    The run must have been made with the requested parameters (its step record says so)."""
    project, params = _load_params(params_file, overrides)
    from xjtrade.pipeline import RunMismatch, StepRecordError, compute_keys, render_step
    from xjtrade.report.render import RenderError
    from xjtrade.report.run import RunError, notebooks_in
    with _locked(project, no_wait):  # taking the lock also restores a report moved aside by a killed build
        try:
            notebooks = notebooks_in(project.notebooks)
            keys = compute_keys(project, params, engine, notebooks)
            render_step(project, params, keys, notebooks, engine=engine, force=True, log=_log)
        except (RunError, RunMismatch) as exc:
            raise click.ClickException(str(exc)) from None
        except StepRecordError as exc:
            raise _record_error(exc) from None
        except RenderError as exc:
            raise click.ClickException(f"render failed; the previous report is unchanged\n{exc}") from None
        except OSError as exc:  # an unwritable or full output folder
            raise click.ClickException(f"render failed: {_os_error(exc)}\nThe previous report is unchanged.") from None
    click.echo(f"report written to {project.reports / params.name}")


@main.command("build")
@_params_options
@_engine_option
@click.option("--force", is_flag=True, help="Rebuild every step, and recompute every cached frame it uses, "
                                            "even if the inputs are unchanged.")
@click.option("--jobs", type=click.IntRange(1, 8), default=2, show_default=True)
@_wait_option
def build_cmd(params_file: Path | None, overrides: tuple[str, ...], engine: str, force: bool, jobs: int,
              no_wait: bool) -> None:
    """Data, run and render in one go; steps whose inputs and outputs are unchanged are skipped."""
    # Only light modules here: an unchanged build imports no pandas or pydantic (the error classes
    # of the heavier modules are looked up when an error is being matched: `_error_class`).
    from xjtrade.errors import ParameterError, RunError
    from xjtrade.pipeline import BuildReport, RunMismatch, StepRecordError, build, load_params
    project = _project()
    report = BuildReport()

    def done_before() -> str:
        return (f"steps finished before it ({', '.join(report.ran)}) kept their new outputs"
                if report.ran else "earlier outputs are unchanged")

    try:   # checked before anything is written (the lock included); cached once valid
        params = load_params(project, params_file, overrides)
    except ParameterError as exc:
        raise click.ClickException(str(exc)) from None
    with _locked(project, no_wait):
        try:
            build(project, params, force=force, engine=engine, jobs=jobs, log=_log, report=report)
        except StepRecordError as exc:
            raise _record_error(exc) from None
        except (RunError, ParameterError, RunMismatch) as exc:
            raise click.ClickException(str(exc)) from None
        except _error_class("xjtrade.report.render", "RenderError") as exc:
            raise click.ClickException(f"render failed; the previous report is unchanged; {done_before()}"
                                       f"\n{exc}") from None
        except DataValidationError as exc:
            raise click.ClickException(f"{exc}\nNothing was built; earlier outputs are unchanged.") from None
        except OSError as exc:  # an unwritable or full output folder
            raise click.ClickException(f"build failed in the {report.step} step: {_os_error(exc)}\n"
                                       f"The outputs of that step are unchanged; {done_before()}.") from None
    if not report.ran:
        click.echo(f"nothing to do: inputs and outputs unchanged since the last build of '{params.name}' "
                   f"({report.seconds:.2f} s); report in {report.report_dir}")
    else:
        click.echo(f"built '{params.name}' in {report.seconds:.1f} s: ran {', '.join(report.ran)}"
                   + (f"; unchanged: {', '.join(report.skipped)}" if report.skipped else ""))
        if report.cache:
            click.echo("recomputed and cached: " + ", ".join(f"{n} {k}" for k, n in sorted(report.cache.items())))
        click.echo(f"report: {_written(report.report_dir, 'the build') / 'site' / 'index.html'}")


def _error_class(module: str, name: str) -> type[Exception]:
    """An exception class of a heavier module, imported only when an exception is being matched
    (an `except` clause's expression is evaluated then), so the happy path does not import it."""
    import importlib
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        raise TypeError(f"{module}.{name} is not an exception class")
    return cls


def _written(folder: Path | None, what: str) -> Path:
    """The output folder a finished step reports (a step that returns without one is a bug)."""
    if folder is None:
        raise RuntimeError(f"{what} finished without naming its output folder")
    return folder


@main.command("sweep")
@click.argument("grid_file", type=click.Path(path_type=Path))
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Use this running dask scheduler (default: a local cluster, one worker process per core). "
                   "Trusted like a shell: a scheduler or worker can run code in this process.")
@click.option("--workers", "n_workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes of the local cluster (default: the cores of this machine).")
@click.option("--max-scenarios", type=click.IntRange(1, 10_000_000), default=None, metavar="N",
              help="Refuse grids of more scenarios than this (default 1,000; counted before any is made).")
@click.option("--task-timeout", type=click.FloatRange(1, 7 * 24 * 3600), default=None, metavar="SECONDS",
              help="Give up on the workers when no task has finished for this long (default 1800).")
@click.option("--no-wait", "no_wait", is_flag=True,
              help="If another sweep of the same grid is running, stop at once instead of waiting.")
def sweep_cmd(grid_file: Path, scheduler: str | None, n_workers: int | None, max_scenarios: int | None,
              task_timeout: float | None, no_wait: bool) -> None:
    """Run every scenario of a grid file on a dask cluster into reports/sweeps/<grid>/."""
    from xjtrade.project import Locked
    from xjtrade.sweep.cluster import TASK_TIMEOUT, SchedulerError, check_address
    from xjtrade.sweep.grid import MAX_SCENARIOS, GridError
    from xjtrade.sweep.runner import run_sweep
    project = _project()
    if scheduler is not None and n_workers:
        raise click.BadParameter("--workers sizes the local cluster; it cannot be used with --scheduler",
                                 param_hint="--workers")
    if scheduler is not None:
        try:
            scheduler = check_address(scheduler)
        except SchedulerError as exc:
            raise click.ClickException(str(exc)) from None   # one line, the address named
    try:
        report = run_sweep(project, grid_file, scheduler=scheduler, n_workers=n_workers, log=_log,
                           max_scenarios=max_scenarios or MAX_SCENARIOS, wait=not no_wait,
                           task_timeout=task_timeout or TASK_TIMEOUT)
    except GridError as exc:
        raise click.ClickException(f"{exc}\nNothing was run.") from None
    except DataValidationError as exc:
        raise click.ClickException(f"{exc}\nNothing was run.") from None
    except Locked as exc:
        raise click.ClickException(str(exc)) from None
    except ConnectionError as exc:   # SchedulerError: one line
        raise click.ClickException(str(exc)) from None
    except OSError as exc:   # a full or read-only disk (cache, lock, reports/)
        raise click.ClickException(f"sweep failed: {_os_error(exc)}\nResults computed so far are kept in the cache; "
                                   "the previous results folder is unchanged.") from None
    from xjtrade.sweep.reports import EvaluationReport
    out_dir = _written(report.out_dir, f"the sweep of {report.grid!r}")
    if isinstance(report, EvaluationReport):
        click.echo(f"evaluation '{report.grid}': {report.series} series ({report.computed} computed from "
                   f"{report.tasks} vintage tasks, {report.cached} from the cache, {len(report.failed)} vintage(s) "
                   f"failed) in {report.seconds:.1f} s")
        click.echo(f"results: {out_dir / 'evaluation.csv'}; scores: {out_dir / 'scores.csv'}; "
                   f"page: {out_dir / 'index.html'}")
        what, noun = [f"{f['scenario']} {f['vintage']}" for f in report.failed], "vintage(s)"
    else:
        click.echo(f"sweep '{report.grid}': {report.scenarios} scenarios ({report.computed} computed, "
                   f"{report.cached} from the cache, {len(report.failed)} failed) in {report.seconds:.1f} s")
        click.echo(f"results: {out_dir / 'results.csv'}; comparison: {out_dir / 'index.html'}")
        what, noun = [f["scenario"] for f in report.failed], "scenario(s)"
    if report.failed:
        click.echo(f"{len(report.failed)} {noun} failed: " + ", ".join(what)
                   + f" (see {out_dir / 'failures.csv'})", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
