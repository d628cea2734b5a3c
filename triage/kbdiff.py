"""``triage rules diff``: what changed between two knowledge bases, as a release note.

Rules are matched by id. A changed rule names the parts that changed: condition,
urgency, action (the rule's own text of what to do), causes, advice, withheld advice, red flags, derived facts, sources, title,
description, examples, or where it lives (pack and file). A lower urgency is marked
LESS URGENT: the change a safety officer must look at first. Questions are matched
by id (added, removed, reworded: text or help; changed: anything else), and so are
the causes and advice of the catalogue. Every pack of both knowledge bases is
compared, whatever packs are selected for use.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from .assessment import KnowledgeBaseInfo
from .knowledge import KnowledgeBase, Rule
from .urgency import Urgency

RULE_PARTS = {  # name in the note -> how to read it from a rule
    "condition": lambda r: r.spec.when.model_dump(mode="json", by_alias=True, exclude_none=True),
    "urgency": lambda r: r.spec.then.urgency.value if r.spec.then.urgency else None,
    "action": lambda r: r.spec.then.action,  # the rule's own action text, in place of its level's
    "causes": lambda r: list(r.spec.then.causes),
    "advice": lambda r: list(r.spec.then.advice),
    "withheld advice": lambda r: list(r.spec.then.withhold_advice),
    "red flags": lambda r: [f.model_dump(mode="json") for f in r.spec.then.red_flags],
    "derived facts": lambda r: list(r.spec.then.derive),
    "sources": lambda r: [s.model_dump(mode="json", exclude_none=True) for s in r.spec.sources],
    "title": lambda r: r.spec.title,
    "description": lambda r: r.spec.description,
    "examples": lambda r: r.spec.examples.model_dump(mode="json"),
    "place": lambda r: f"{r.pack}: {r.file}",
}
REWORDING = ("text", "help")


class Change(BaseModel):
    """One part of a rule, question or catalogue entry: before and after."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    part: str
    old: Any
    new: Any


class ChangedItem(BaseModel):
    """A rule, question, cause or advice present in both, with the parts that differ."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    changes: list[Change]
    less_urgent: bool = False  # a rule whose urgency went down


class Section(BaseModel):
    """Items added, removed and changed, by id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    added: list[str]
    removed: list[str]
    changed: list[ChangedItem]
    reworded: list[str] = []  # questions whose only changes are their text or help


class KnowledgeBaseDiff(BaseModel):
    """Everything that differs between two knowledge bases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    old: KnowledgeBaseInfo
    new: KnowledgeBaseInfo
    old_path: str
    new_path: str
    rules: Section
    questions: Section
    causes: Section
    advice: Section

    removed_urgencies: dict[str, str] = {}  # removed rule -> the urgency it set (above self_care)

    @property
    def identical(self) -> bool:
        return self.old.sha256 == self.new.sha256

    @computed_field  # in --format json too
    @property
    def less_urgent(self) -> list[str]:
        """Rules whose urgency went down, and removed rules that set an urgency: a release gate's concern."""
        return [item.id for item in self.rules.changed if item.less_urgent] + list(self.removed_urgencies)


def diff_knowledge_bases(old: KnowledgeBase, new: KnowledgeBase) -> KnowledgeBaseDiff:
    """Compare two loaded knowledge bases (load them with every pack to compare every rule)."""
    rules = _section(old.rule_by_id, new.rule_by_id, _rule_parts)
    # Mark a lower urgency: the first thing a safety officer must see.
    rules = rules.model_copy(update={"changed": [
        item.model_copy(update={"less_urgent": _lowered(old.rule_by_id[item.id], new.rule_by_id[item.id])})
        for item in rules.changed
    ]})
    return KnowledgeBaseDiff(
        old=_info(old), new=_info(new), old_path=str(old.path), new_path=str(new.path), rules=rules,
        questions=_reworded(_section(old.question_by_id, new.question_by_id, _dump)),
        causes=_section(old.causes, new.causes, _dump),
        advice=_section(old.advice, new.advice, _dump),
        removed_urgencies={rule: old.rule_by_id[rule].spec.then.urgency.value for rule in rules.removed
                           if (old.rule_by_id[rule].spec.then.urgency or Urgency.SELF_CARE) is not Urgency.SELF_CARE},
    )


def _reworded(section: Section) -> Section:
    reworded = [item.id for item in section.changed if {c.part for c in item.changes} <= set(REWORDING)]
    return section.model_copy(update={"reworded": reworded})


def _info(kb: KnowledgeBase) -> KnowledgeBaseInfo:
    return KnowledgeBaseInfo(name=kb.name, version=kb.version, packs=list(kb.packs), sha256=kb.sha256)


def _rule_parts(rule: Rule) -> dict[str, Any]:
    return {name: read(rule) for name, read in RULE_PARTS.items()}


def _dump(item: BaseModel) -> dict[str, Any]:
    return item.model_dump(mode="json", by_alias=True, exclude_none=True)


def _lowered(old: Rule, new: Rule) -> bool:
    before = old.spec.then.urgency or Urgency.SELF_CARE
    after = new.spec.then.urgency or Urgency.SELF_CARE
    return after.rank < before.rank


def _section(old: dict, new: dict, parts) -> Section:
    changed = []
    for key in (k for k in old if k in new):
        before, after = parts(old[key]), parts(new[key])
        differing = [Change(part=p, old=before.get(p), new=after.get(p))
                     for p in dict.fromkeys([*before, *after]) if before.get(p) != after.get(p)]
        if differing:
            changed.append(ChangedItem(id=key, changes=differing))
    return Section(added=[k for k in new if k not in old], removed=[k for k in old if k not in new], changed=changed)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def render_diff(diff: KnowledgeBaseDiff) -> str:
    """The differences as a release note a person can read."""
    old, new = diff.old, diff.new
    lines = [
        f"Release note: {old.name} {old.version} -> {new.name} {new.version}",
        f"  old: {diff.old_path}  sha256 {old.sha256}",
        f"  new: {diff.new_path}  sha256 {new.sha256}",
    ]
    if diff.identical:
        return "\n".join(lines + ["", "No changes: the two knowledge bases have the same content."])
    if (old.name, old.version) == (new.name, new.version):
        lines.append(f"  note: the content differs but the version is still {new.version}: bump it in kb.yaml")
    lowered = diff.less_urgent
    if lowered:
        named = [f"{rule} (removed; it set {diff.removed_urgencies[rule]})" if rule in diff.removed_urgencies
                 else rule for rule in lowered]
        lines += ["", f"LESS URGENT ({len(lowered)}): {', '.join(named)}: check these first."]
    if diff.rules.removed or any(c.part in ("condition", "derived facts") for item in diff.rules.changed
                                 for c in item.changes):
        lines += ["", "A removed rule or a changed condition or derived fact can also make cases less urgent: "
                      "'triage audit CASES --against OLD_DIR' shows which cases change."]
    for title, section in (("Rules", diff.rules), ("Questions", diff.questions),
                           ("Causes", diff.causes), ("Advice", diff.advice)):
        if not (section.added or section.removed or section.changed):
            lines += ["", f"{title}: no changes"]
            continue
        lines += ["", f"{title}: {len(section.added)} added, {len(section.removed)} removed, {len(section.changed)} changed"]
        lines += [f"  added:   {item}" for item in section.added]
        lines += [f"  removed: {item}" + ("  LESS URGENT" if item in diff.removed_urgencies and section is diff.rules
                                          else "") for item in section.removed]
        for item in section.changed:
            parts = [c.part for c in item.changes]
            verb = "reworded" if item.id in section.reworded else "changed"
            lines.append(f"  {verb}: {item.id} ({', '.join(parts)})" + ("  LESS URGENT" if item.less_urgent else ""))
            for change in item.changes:
                lines.append(f"    {change.part}: {_show(change.old)} -> {_show(change.new)}")
    return "\n".join(lines)
