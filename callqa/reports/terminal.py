"""Reports for people: the per-manager KPI table and a one-call summary."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from callqa.analysis import CallAnalysis
from callqa.store import ManagerSummary

__all__ = ["print_call", "print_manager_summary"]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _console() -> Console:
    # Piped to a log or file there is no terminal width to respect; rich would assume 80.
    return Console() if sys.stdout.isatty() else Console(width=100)


def print_manager_summary(rows: list[ManagerSummary], console: Console | None = None) -> None:
    console = console or _console()
    if not rows:
        console.print("No scored calls yet: run `callqa run FOLDER` first.")
        return
    table = Table(title="Per-manager summary")
    for column in ("Manager", "Calls", "Min", "Compliance", "Objections", "Handled", "Stop/call"):
        table.add_column(column, justify="left" if column == "Manager" else "right", no_wrap=True)
    for r in rows:
        handled = "—" if r.objections_handled_pct is None else f"{r.objections_handled_pct:.0f}%"
        table.add_row(r.manager, str(r.calls), f"{r.minutes:.1f}", _pct(r.mean_compliance), str(r.objections), handled, f"{r.stop_words_per_call:.2f}")
    console.print(table)


def print_call(analysis: CallAnalysis, console: Console | None = None) -> None:
    console = console or _console()
    s = analysis.scores
    console.print(f"[bold]{analysis.call_id}[/bold]  {analysis.duration:.0f} s  script {analysis.script_id} v{analysis.script_version}")
    console.print(f"compliance {_pct(s.script_compliance)}  objection handling {_pct(s.objection_handling)}  overall {_pct(s.overall)}")
    table = Table("Step", "Found", "At", "Evidence")
    for step in analysis.steps:
        if step.status == "uncertain":
            mark = f"[yellow]uncertain[/yellow] ({(step.uncertain_because or '').replace('_', ' ')})"
        else:
            mark = "yes" if step.found else ("[red]MISSING[/red]" if step.required else "no")
        table.add_row(step.id, mark, "" if step.start is None else f"{step.start:.1f}s", step.evidence or "")
    console.print(table)
    for hit in analysis.stop_words:
        console.print(f"stop-word {hit.id} ({hit.severity}) at {hit.start:.1f}s: «{hit.text}»")
    for o in analysis.objections:
        verdict = "handled" if o.handled else "[red]not handled[/red]"
        console.print(
            f"objection {o.id} at {o.start:.1f}s «{o.text}»: {verdict} (found: {', '.join(o.handling_found) or 'none'})"
            + (f", answered «{o.answer}»" if o.answer else "")
        )
    if analysis.flags:
        console.print("flags: " + ", ".join(analysis.flags))
