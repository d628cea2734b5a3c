"""``triage audit FILE...``: audit a vignette set for under-triage."""

from __future__ import annotations

import click

from .app import State, main


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True), metavar="FILE_OR_DIR...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 on any under-triage, not only of emergency or urgent vignettes.")
@click.pass_obj
def audit(state: State, files: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Audit vignettes (JSON, YAML or JSONL files, or directories of them) against their expected urgency.

    Prints appropriate, over- and under-triage, safe advice, cause recall, a
    confusion matrix and each under-triaged vignette with what fired. Exits 1
    when any emergency or urgent vignette is under-triaged (with --strict, on
    any under-triage). A vignette that cannot be read or is invalid is listed on
    standard error and left out of the figures; every other one is audited, and
    the exit status is 1.
    """
    from ..audit import audit as run_audit
    from ..audit import read_vignettes, render_report, report_json

    problems: list[str] = []
    report = run_audit(read_vignettes(files, problems), state.engine, problems)
    click.echo(report_json(report) if fmt == "json" else render_report(report))
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    failing = report.under_triaged if strict else report.serious_under_triage
    if problems:
        raise click.ClickException(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} with the vignettes (listed above; those vignettes were not audited)"
            + (f"; {len(failing)} under-triaged: " + ", ".join(o.id for o in failing) if failing else "")
        )
    if failing:
        raise click.ClickException(
            f"{len(failing)} vignette{'s' if len(failing) != 1 else ''} under-triaged: "
            + ", ".join(o.id for o in failing)
        )
