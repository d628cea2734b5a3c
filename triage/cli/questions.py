"""``triage questions``: the questionnaire as text, as data, or as a FHIR Questionnaire."""

from __future__ import annotations

import json

import click

from .app import State, handle_errors, main


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "fhir"]), default="text", show_default=True,
              help="text for people, json as data, fhir as an HL7 FHIR R4 Questionnaire.")
@click.option("--why", is_flag=True,
              help="Add, for each question, the rules its answer can decide before anything is answered "
                   "(id, title and what each would conclude); text and json formats.")
@click.pass_obj
@handle_errors
def questions(state: State, fmt: str, why: bool) -> None:
    """List the questions a case may answer: id, type, allowed answers and text."""
    kb = state.knowledge_base
    reasons = {}
    if why:
        from ..explain import question_reasons

        reasons = question_reasons(kb)
    if fmt == "fhir":
        from ..fhir import questionnaire  # here: keeps `triage --help` fast

        click.echo(json.dumps(questionnaire(kb), indent=2))
        return
    rows = [q.model_dump(mode="json", by_alias=True, exclude_none=True) for q in kb.questions]
    if why:
        for row in rows:
            row["why"] = [r.model_dump(mode="json") for r in reasons[row["id"]]]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for question in kb.questions:
        click.echo(f"{question.id:<28} {question.describe_allowed():<32} {question.text}")
        if question.ask_when is not None:
            when = json.dumps(question.ask_when.model_dump(mode="json", by_alias=True, exclude_none=True))
            click.echo(f"{'':<28} asked when {when}")
        if why:
            from .ask import describe_reason

            for reason in reasons[question.id]:
                click.echo(f"{'':<28} can decide: {describe_reason(reason, kb)}")
            if not reasons[question.id]:
                click.echo(f"{'':<28} can decide: nothing (no rule tests it): it is never asked")
    click.echo(f"{len(kb.questions)} questions, knowledge base {kb.name} {kb.version}")
