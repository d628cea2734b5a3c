"""``triage rules list`` and ``triage rules check``: look into a knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import State, main

GENERATED_CASES = 5000  # triage.differential.DEFAULT_CASES, not imported here: it keeps `triage --help` fast


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
    # Columns as wide as their longest entry (ids are plain [a-z0-9_]), so no row goes askew.
    id_width = max((len(row["id"]) for row in rows), default=2)
    pack_width = max((len(row["pack"]) for row in rows), default=4)
    for row in rows:
        causes = ", ".join(row["causes"]) or "-"
        click.echo(f"{row['id']:<{id_width}}  {row['pack']:<{pack_width}}  {row['urgency'] or '-':<10}  {causes}")
    click.echo(f"{len(rows)} rules, knowledge base {kb.name} {kb.version}, packs: {', '.join(kb.packs)}")


@rules.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def check_rules(state: State, directory: Path | None) -> None:
    """Validate a knowledge base: schema, unique ids, known fields, quotes, examples.

    Also that the out-of-scope result never sits beside a warning sign, a cause
    or an urgency above routine, on every example and on generated cases.

    Also warns (without failing) where a rule could make an answer less urgent:
    a rule whose fact stops a more urgent rule, two rules concluding different
    urgencies in the same situation, a red-flag question that no longer raises
    the urgency above self_care.

    DIRECTORY defaults to the one in use (--rules, or the shipped one).
    Exits 1 and lists every problem when there is any. Every other command
    refuses a knowledge base that fails this check.
    """
    target = directory or state.rules_dir
    from ..knowledge.verify import check_with_warnings  # here: keeps `triage --help` fast

    problems, warnings = check_with_warnings(target, state.packs)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if problems:
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise click.ClickException(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")
    noted = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''} above)" if warnings else ""
    click.echo(f"ok: {target or 'shipped knowledge base'}{noted}")


@rules.command("diff")
@click.argument("old_dir", metavar="OLD_DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("new_dir", metavar="[NEW_DIR]", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a release note for people; json: for tools.")
@click.option("--cases", "generated", type=click.IntRange(min=0), default=GENERATED_CASES, show_default=True, metavar="N",
              help="Assess N seeded random cases with both knowledge bases and list every one now less urgent (0: skip).")
@click.option("--seed", type=int, default=0, show_default=True, help="The seed of the generated cases.")
@click.pass_obj
def diff_rules(state: State, old_dir: Path, new_dir: Path | None, fmt: str, generated: int, seed: int) -> None:
    """List what changed from the knowledge base in OLD_DIR to NEW_DIR.

    NEW_DIR defaults to the knowledge base in use (--rules, or the shipped one).
    Rules added, removed and changed (which parts: condition, urgency, action, causes,
    advice, sources, ...; a lower urgency is marked LESS URGENT), and questions,
    causes and advice added, removed, reworded or changed. Every pack of both is
    compared. Both knowledge bases must pass 'triage rules check'.

    The manifest (kb.yaml) too: packs added, removed or changed, the disclaimer,
    and the worsening advice (a removed line is flagged).

    Then a differential check: N generated cases (--cases, seeded) assessed
    with both knowledge bases (each with its default packs, or both with
    --pack), listing every case now less urgent, with the rules that fired.

    Wording a person acts on (a question's text or help, a choice's label, a
    rule's action or red-flag reason, an advice text) is listed under NEEDS CLINICAL REVIEW,
    swapped choice labels under LABELS SWAPPED.

    Exits 1 when a rule became less urgent or a rule that set an urgency was
    removed, a pack used by default is no longer used by default or was
    removed, a rule no longer withholds advice it withheld, a wording needs
    clinical review, or a generated case is less
    urgent, given advice unsafely or out of scope beside a finding, so a
    release script can stop there.
    """
    from ..kbdiff import diff_knowledge_bases, render_diff

    result = diff_knowledge_bases(load_every_pack(old_dir), load_every_pack(new_dir or state.rules_dir))
    if generated and not result.identical:
        result = result.model_copy(update={"generated": generated_comparison(
            old_dir, new_dir or state.rules_dir, state.packs, generated, seed)})
    click.echo(result.model_dump_json(indent=2) if fmt == "json" else render_diff(result))
    # A release gate can rely on the status: the note above is printed in full either way.
    packs = [name for name in result.less_urgent if name.startswith("pack ")]
    rules = [name for name in result.less_urgent if name not in packs]
    reasons = ([f"{len(rules)} rule(s) less urgent or removed: {', '.join(rules)}"] if rules else []) + (
        [f"{len(packs)} pack(s) no longer used by default or removed: "
         f"{', '.join(name.removeprefix('pack ') for name in packs)}"] if packs else [])
    if result.no_longer_withheld:
        reasons.append(f"{len(result.no_longer_withheld)} rule(s) no longer withhold advice: "
                       f"{', '.join(result.no_longer_withheld)}")
    if result.review:
        reasons.append(f"{len(result.review)} wording change(s) a person acts on need clinical review: "
                       f"{', '.join(dict.fromkeys(item.id for item in result.review))}")
    if result.generated is not None and result.generated.less_urgent:
        reasons.append(f"{len(result.generated.less_urgent)} of {result.generated.cases} generated cases less urgent")
    if result.generated is not None and result.generated.safety_changes:
        reasons.append(f"{len(result.generated.safety_changes)} of {result.generated.cases} generated cases given advice "
                       "unsafely or out of scope beside a finding")
    if reasons:
        raise click.ClickException("; ".join(reasons))


def generated_comparison(old_dir: Path, new_dir: Path | None, packs: list[str] | None, count: int, seed: int):
    """Both knowledge bases, each with its default packs (or both with ``packs``), on ``count`` generated cases."""
    from ..checked import load_checked_knowledge_base
    from ..differential import compare_generated
    from ..engine import Engine

    old = Engine(load_checked_knowledge_base(old_dir, packs))
    new = Engine(load_checked_knowledge_base(new_dir, packs))
    return compare_generated(old, new, count, seed)


def load_every_pack(path: Path | None):
    """A knowledge base with all its packs, refused (fail closed) if it fails 'rules check'."""
    from ..checked import load_checked_knowledge_base

    kb = load_checked_knowledge_base(path)
    every = [p.name for p in kb.manifest.packs]
    return kb if list(kb.packs) == every else load_checked_knowledge_base(path, every)
