"""``triage audit FILE...``: audit a vignette set for under-triage, its rule coverage and a change's impact."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import State, main

GENERATED_CASES = 5000  # triage.differential.DEFAULT_CASES, not imported here: it keeps `triage --help` fast


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True), metavar="FILE_OR_DIR...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True,
              help="Exit 1 on any under-triage (not only of emergency or urgent vignettes); with --against also on any "
                   "case now less urgent; with --coverage also when an emergency or urgent rule has no vignette at its level.")
@click.option("--against", "old_rules", metavar="OLD_RULES_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also assess every case with the knowledge base in OLD_RULES_DIR and report what changed. "
                   "The FILEs may then be plain case files too, CSV included (changes only).")
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Show which rules the cases fire and how often, the rules none fires, and the urgency-raising rules "
                   "with no vignette at their level.")
@click.option("--html", "html_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report, with coverage (and the change impact with --against), as one "
                   "self-contained HTML page (no network needed), atomically.")
@click.option("--cases", "generated", type=click.IntRange(min=0), default=GENERATED_CASES, show_default=True, metavar="N",
              help="With --against, also assess N seeded random cases with both knowledge bases and report those now "
                   "less urgent (0: skip).")
@click.option("--seed", type=int, default=0, show_default=True, help="With --against, the seed of the generated cases.")
@click.pass_obj
def audit(state: State, files: tuple[str, ...], fmt: str, strict: bool, old_rules: Path | None,
          with_coverage: bool, html_path: Path | None, generated: int, seed: int) -> None:
    """Audit vignettes (JSON, YAML or JSONL files, or directories of them) against their expected urgency.

    Prints appropriate, over- and under-triage, safe advice and cause recall,
    each with its 95% Wilson interval, accuracy by expected level, the
    over/under-triage odds, a confusion matrix and each under-triaged vignette
    with what fired. Exits 1 when any emergency or urgent vignette is
    under-triaged (with --strict, on any under-triage).

    With --against OLD_RULES_DIR: each case whose urgency, action, causes, red flags,
    advice or out-of-scope verdict changed, a transition matrix of old against new level, and the vignettes
    newly under-triaged or newly correct; exits 1 when an emergency or urgent
    vignette is newly under-triaged, when advice is newly given to an emergency or
    urgent case or advice withheld before is now given, or when a case is now out of
    scope beside a warning sign, a cause or an urgency above routine. Also N generated cases (--cases) assessed
    with both: exits 1 when one the old knowledge base sent to emergency or
    urgent care is now less urgent (with --strict, when any is less urgent).
    Each knowledge base runs its own default
    packs (so a change of kb.yaml's defaults is compared), or with --pack both
    run the packs given.

    A vignette that cannot be read or is invalid is listed on standard error and
    left out of the figures; every other one is audited, and the exit status is 1.
    """
    if html_path is not None and not html_path.parent.is_dir():
        raise click.BadParameter(f"directory {str(html_path.parent)!r} does not exist", param_hint="--html")
    from ..audit import audit as run_audit
    from ..audit import read_vignettes
    from ..errors import CaseError

    engine = state.engine
    problems: list[str] = []  # unreadable or invalid vignettes: listed, never hiding the others
    impact = None
    if old_rules is not None:
        from ..impact import compare, read_records

        records = read_records(files, engine.knowledge_base)
        if not records:
            raise CaseError([f"no cases in {', '.join(files)}: nothing to compare"])
        vignettes = [r.vignette for r in records if r.vignette is not None]
        # Without --pack each knowledge base runs its own default packs, so a change of
        # kb.yaml's defaults shows as the cases it changes; with --pack both run those.
        old_engine = _old_engine(old_rules, state.packs)
        impact = compare(records, old_engine, engine)
        if generated:  # a narrowed condition where no vignette sits (triage.differential)
            from ..differential import compare_generated

            impact = impact.model_copy(update={"generated": compare_generated(old_engine, engine, generated, seed)})
        fired = [([f.id for f in engine.assess(r.case, source=r.source).fired_rules], r.expected_urgency) for r in records]
    else:
        vignettes = read_vignettes(files, problems, engine.knowledge_base.question_by_id)
        if not vignettes and not problems:  # an audit of nothing must not look like a clean audit
            raise CaseError([f"no vignettes in {', '.join(files)}: nothing to audit"])
    report = run_audit(vignettes, engine, problems) if vignettes else None
    if old_rules is None:
        fired = [(o.fired_rules, o.expected_urgency) for o in report.outcomes] if report is not None else []
    rule_coverage = None
    if with_coverage or html_path is not None:  # the page always shows coverage
        from ..coverage import coverage

        rule_coverage = coverage(engine.knowledge_base, fired)
    shown = rule_coverage if with_coverage else None
    problems = _in_file_order(problems, files)
    # Said before any figure: vignettes left out, or red flags not checked (the safety pack left out).
    notices = ([_incomplete(problems)] if problems else []) + [f"WARNING: {w}" for w in engine.knowledge_base.warnings]
    click.echo(_json(report, shown, impact, problems, engine.knowledge_base.warnings) if fmt == "json"
               else _text(report, shown, impact, notices))
    if html_path is not None:
        _write_html(html_path, report, rule_coverage, impact, files, notices, problems)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    failures = _failures(report, shown, impact, strict)
    if problems:
        failures.insert(0, f"{len(problems)} problem{'s' if len(problems) != 1 else ''} with the vignettes "
                           "(listed above; those vignettes were not audited)")
    if failures:
        raise click.ClickException("; ".join(failures))


def _in_file_order(problems: list[str], files: tuple[str, ...] | list[str]) -> list[str]:
    """The problems in the order of the files given, then of the files and records in each.

    A vignette's file and structure are checked when it is read, its answers when it is
    assessed; without this a file's answer errors came after every later file's errors.
    The sort is stable and only reorders: every problem is still listed.
    """
    def key(problem: str) -> tuple[int, str, int]:
        place = problem.split(": ", 1)[0]  # "FILE#N", "FILE" or "DIRECTORY"
        name, _, number = place.rpartition("#") if "#" in place else (place, "", "")
        given = [i for i, path in enumerate(files) if name == path or name.startswith(path.rstrip("/") + "/")]
        return (given[0] if given else len(files), name, int(number) if number.isdigit() else 0)

    return sorted(problems, key=key)


def _old_engine(path: Path, packs: list[str] | None):
    from ..checked import load_checked_knowledge_base
    from ..engine import Engine
    from ..errors import KnowledgeBaseError

    try:
        return Engine(load_checked_knowledge_base(path, packs))
    except KnowledgeBaseError as error:
        raise click.ClickException(f"the old knowledge base (--against {path}) is refused: {error}") from None


def _incomplete(problems: list[str]) -> str:
    """The heading that keeps figures with vignettes left out from reading as a clean audit."""
    count = len(problems)
    return (f"INCOMPLETE AUDIT: {count} problem{'s' if count != 1 else ''} with the vignettes: the figures below "
            "leave those vignettes out (each is listed on standard error, and in --format json as 'problems')")


def _text(report, rule_coverage, impact, notices: list[str]) -> str:
    from ..audit import render_report

    parts = list(notices)
    if report is not None:
        parts.append(render_report(report))
    else:
        parts.append("No vignettes (no expected levels): changes only." if impact is not None else "No vignette could be read.")
    if rule_coverage is not None:
        from ..coverage import render_coverage

        parts.append(render_coverage(rule_coverage))
    if impact is not None:
        from ..impact import render_impact

        parts.append(render_impact(impact))
    return "\n\n".join(parts)


def _json(report, rule_coverage, impact, problems: list[str], warnings: list[str]) -> str:
    data = report.model_dump(mode="json") if report is not None else {"vignettes": 0}
    # Vignettes left out must show in the JSON too, or its figures read as a clean audit.
    data["complete"] = not problems
    data["problems"] = list(problems)
    data["warnings"] = list(warnings)  # the safety pack left out: red flags were not checked
    data["coverage"] = rule_coverage.model_dump(mode="json") if rule_coverage is not None else None
    data["impact"] = impact.model_dump(mode="json") if impact is not None else None
    return json.dumps(data, indent=2)


def _write_html(path: Path, report, rule_coverage, impact, files, notices: list[str], problems: list[str]) -> None:
    from .. import __version__
    from ..casefiles import atomic_output
    from ..report_html import render_html

    page = render_html(report, rule_coverage, impact, inputs=list(files), version=__version__, notices=notices,
                       problems=problems)
    with atomic_output(path) as out:
        out.write(page)
    click.echo(f"HTML report written to {path}", err=True)


def _failures(report, rule_coverage, impact, strict: bool) -> list[str]:
    """Why the audit fails (exit 1), one sentence each; empty when it passes."""
    def named(what: str, ids: list[str]) -> str:
        return f"{len(ids)} {what}: {', '.join(ids)}"

    failures = []
    if report is not None:
        failing = report.under_triaged if strict else report.serious_under_triage
        if failing:
            failures.append(named(f"vignette{'s' if len(failing) != 1 else ''} under-triaged", [o.id for o in failing]))
    if impact is not None:
        newly = impact.newly_under_triaged if strict else impact.serious_newly_under_triaged
        if newly:
            failures.append(named(f"vignette{'s' if len(newly) != 1 else ''} newly under-triaged by the change", newly))
        if impact.unsafe_advice:
            failures.append(named("cases given advice unsafely by the change (newly given to an emergency or urgent "
                                  "case, or withheld before)", impact.unsafe_advice))
        if impact.scope_contradictions:
            failures.append(named("cases now out of scope beside a warning sign, a cause or an urgency above routine",
                                  impact.scope_contradictions))
        if strict and impact.less_urgent:
            failures.append(named("cases now less urgent (--strict)", impact.less_urgent))
        if impact.generated is not None:
            lowered = impact.generated.less_urgent if strict else impact.generated.serious_less_urgent
            if lowered:
                what = "less urgent (--strict)" if strict else "less urgent than the emergency or urgent care they had"
                failures.append(f"{len(lowered)} of {impact.generated.cases} generated cases {what}: "
                                f"{', '.join(lowered[:5])}{', ...' if len(lowered) > 5 else ''}")
        if impact.generated is not None and impact.generated.safety_changes:
            flagged = impact.generated.safety_changes
            failures.append(f"{len(flagged)} of {impact.generated.cases} generated cases given advice unsafely or "
                            f"out of scope beside a finding: {', '.join(flagged[:5])}{', ...' if len(flagged) > 5 else ''}")
    if rule_coverage is not None and strict and rule_coverage.serious_without_vignette:
        failures.append(named("emergency or urgent rules with no vignette at their level (--strict)",
                              rule_coverage.serious_without_vignette))
    return failures
