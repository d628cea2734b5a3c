"""``triage schema case|assessment``: print the JSON Schemas other services validate with."""

from __future__ import annotations

import json

import click

from .app import State, main


@main.group()
def schema() -> None:
    """Print JSON Schemas (2020-12) of the case and assessment formats."""


@schema.command("case")
@click.pass_obj
def case(state: State) -> None:
    """Print the JSON Schema of a case (the input), built from the questions in use."""
    from ..schemas import case_schema  # here: keeps `triage --help` fast

    click.echo(json.dumps(case_schema(state.knowledge_base), indent=2))


@schema.command("assessment")
def assessment() -> None:
    """Print the JSON Schema of an assessment (the output of 'assess --format json')."""
    from ..schemas import assessment_schema

    click.echo(json.dumps(assessment_schema(), indent=2))
