"""``triage assess FILE``: assess one case file."""

from __future__ import annotations

import json

import click

from .app import State, handle_errors, main, use_colour


@main.command()
@click.argument("file", metavar="FILE")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "fhir"]), default="text", show_default=True,
              help="text for people, json for programs, fhir for an HL7 FHIR R4 RiskAssessment.")
@click.option("--explain", is_flag=True, help="Show the reasoning: each fired rule, what it matched, its sources.")
@click.option("--why-not", "why_not", metavar="CAUSE_OR_LEVEL",
              help="Instead of the assessment, say why the case did not get this urgency level, cause, red flag "
                   "or advice: the rules that could conclude it, the test in each that failed, and the "
                   "unanswered questions that could still make it hold (with --format json, as JSON).")
@click.pass_obj
@handle_errors
def assess(state: State, file: str, fmt: str, explain: bool, why_not: str | None) -> None:
    """Assess the case in FILE (JSON or YAML; '-' reads standard input).

    A case is a mapping of answers, or a FHIR QuestionnaireResponse; a missing
    answer means unknown, never no.
    Exits 1 with a message naming the file and field when the case is invalid.
    """
    from ..casefiles import read_single_case  # here: keeps `triage --help` fast
    from ..render import render_text

    case, source = read_single_case(file)
    if why_not is not None:
        from ..errors import TriageError
        from ..explain import render_why_not, target_kind

        try:
            target_kind(state.knowledge_base, why_not)
        except TriageError as error:
            raise click.BadParameter(str(error), param_hint="--why-not") from None
        explained = state.engine.why_not(state.engine.validate(case, source=source), why_not)
        click.echo(explained.model_dump_json(indent=2) if fmt == "json" else render_why_not(explained, state.knowledge_base))
        return
    assessment = state.engine.assess(case, source=source)
    if fmt == "json":
        click.echo(assessment.model_dump_json(indent=2))
    elif fmt == "fhir":
        from ..fhir import risk_assessment

        click.echo(json.dumps(risk_assessment(assessment, state.knowledge_base, case), indent=2))
    else:
        click.echo(render_text(assessment, explain=explain, colour=use_colour()))
