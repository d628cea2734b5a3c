"""``triage rules list`` and ``triage rules check``: look into a knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import State, main


@main.group()
def rules() -> None:
    """List and check the rules of a knowledge base."""


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def list_rules(state: State, fmt: str) -> None:
    """List the rules in use, with their pack, urgency and causes."""
    kb = state.knowledge_base
    rows = [
        {
            "id": rule.id,
            "pack": rule.pack,
            "title": rule.spec.title,
            "urgency": rule.spec.then.urgency.value if rule.spec.then.urgency else None,
            "causes": list(rule.spec.then.causes),
            "sources": [s.model_dump(exclude_none=True) for s in rule.spec.sources],
        }
        for rule in kb.rules
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        causes = ", ".join(row["causes"]) or "-"
        click.echo(f"{row['id']:<34} {row['pack']:<10} {row['urgency'] or '-':<11} {causes}")
    click.echo(f"{len(rows)} rules, knowledge base {kb.name} {kb.version}, packs: {', '.join(kb.packs)}")


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def check_rules(state: State, directory: Path | None) -> None:
    """Validate a knowledge base: schema, unique ids, known fields, quotes, examples.

    DIRECTORY defaults to the one in use (--rules, or the shipped one).
    Exits 1 and lists every problem when there is any.
    """
    target = directory or state.rules_dir
    from ..checks import check_knowledge_base  # here: keeps `triage --help` fast

    problems = check_knowledge_base(target, state.packs)
    if problems:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
    click.echo(f"ok: {target or 'shipped knowledge base'}")
