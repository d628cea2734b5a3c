"""``triage rules diff``: what changed between two knowledge bases, as a release note.

Rules are matched by id. A changed rule names the parts that changed: condition,
urgency, action (the rule's own text of what to do), causes, advice, withheld advice, red flags, derived facts, sources, title,
description, examples, or where it lives (pack and file). A lower urgency is marked
LESS URGENT: the change a safety officer must look at first. Questions are matched
by id (added, removed, reworded: text or help; changed: anything else), and so are
the causes and advice of the catalogue. Every pack of both knowledge bases is
compared, whatever packs are selected for use.

Wording a person acts on cannot be judged by a machine, so it is listed under NEEDS
CLINICAL REVIEW: a question's text or help, the label of a choice value both offer (a swap
of two labels, so that "Severe weakness" now sends ``none``, is called LABELS SWAPPED), a
rule's action text, the reason of a red flag a rule keeps, and an advice text.
``triage rules diff`` exits 1 on any of them: a release waits for a clinician.

The manifest (``kb.yaml``) is compared too: packs added, removed or changed (a pack
used by default before and not now, or removed, is LESS URGENT: its rules no longer
run for anyone who does not ask for it), the disclaimer, and the lines of worsening
advice every result carries (a removed line is flagged).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from .assessment import KnowledgeBaseInfo
from .differential import GeneratedComparison, render_generated
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


class Review(BaseModel):
    """Wording a person acts on that changed: a clinician must read it (a machine cannot judge it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str  # question text | question help | choice label | action | red-flag reason | advice text
    id: str  # the question (with the choice value) or the rule (with the red flag)
    old: Any
    new: Any
    swapped_with: Any = None  # a choice label: the other value whose old label this value now carries


class ManifestDiff(BaseModel):
    """What changed in ``kb.yaml``: packs, disclaimer, worsening advice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    packs: Section  # by name; a changed pack names its parts (description, always, default)
    no_longer_default: list[str] = []  # packs still there but no longer used by default
    now_default: list[str] = []  # packs used by default now and not before (added ones included)
    disclaimer: Change | None = None
    worsening_advice_added: list[str] = []
    worsening_advice_removed: list[str] = []  # flagged: a person is no longer told this

    @property
    def less_urgent_packs(self) -> list[str]:
        """Packs whose rules ran by default before and do not now: no longer used by default, or removed."""
        return list(self.no_longer_default) + [name for name in self.packs.removed if name not in self.no_longer_default]

    @property
    def unchanged(self) -> bool:
        return not (self.packs.added or self.packs.removed or self.packs.changed or self.disclaimer
                    or self.worsening_advice_added or self.worsening_advice_removed)


class KnowledgeBaseDiff(BaseModel):
    """Everything that differs between two knowledge bases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    old: KnowledgeBaseInfo
    new: KnowledgeBaseInfo
    old_path: str
    new_path: str
    manifest: ManifestDiff
    rules: Section
    questions: Section
    causes: Section
    advice: Section

    removed_urgencies: dict[str, str] = {}  # removed rule -> the urgency it set (above self_care)
    review: list[Review] = []  # wording a person acts on that changed: NEEDS CLINICAL REVIEW
    # Advice a rule withheld (no massage beside a clot) that the new rules no longer withhold, by
    # rule, changed or removed: read from the rules, so no generated case has to reach them.
    no_longer_withheld: dict[str, list[str]] = {}
    generated: GeneratedComparison | None = None  # the differential check on generated cases, when run

    @property
    def identical(self) -> bool:
        return self.old.sha256 == self.new.sha256

    @computed_field  # in --format json too
    @property
    def less_urgent(self) -> list[str]:
        """A release gate's concern: rules whose urgency went down, removed rules that set an urgency,
        and packs (as ``pack NAME``) no longer used by default or removed."""
        return ([item.id for item in self.rules.changed if item.less_urgent] + list(self.removed_urgencies)
                + [f"pack {name}" for name in self.manifest.less_urgent_packs])


def diff_knowledge_bases(old: KnowledgeBase, new: KnowledgeBase) -> KnowledgeBaseDiff:
    """Compare two loaded knowledge bases (load them with every pack to compare every rule)."""
    rules = _section(old.rule_by_id, new.rule_by_id, _rule_parts)
    # Mark a lower urgency: the first thing a safety officer must see.
    rules = rules.model_copy(update={"changed": [
        item.model_copy(update={"less_urgent": _lowered(old.rule_by_id[item.id], new.rule_by_id[item.id])})
        for item in rules.changed
    ]})
    return KnowledgeBaseDiff(
        old=_info(old), new=_info(new), old_path=str(old.path), new_path=str(new.path),
        manifest=_manifest_diff(old, new), rules=rules,
        questions=_reworded(_section(old.question_by_id, new.question_by_id, _dump)),
        causes=_section(old.causes, new.causes, _dump),
        advice=_section(old.advice, new.advice, _dump),
        removed_urgencies={rule: old.rule_by_id[rule].spec.then.urgency.value for rule in rules.removed
                           if (old.rule_by_id[rule].spec.then.urgency or Urgency.SELF_CARE) is not Urgency.SELF_CARE},
        no_longer_withheld=_unwithheld(old, new),
        review=_question_review(old, new) + _rule_review(old, new) + [
            Review(kind="advice text", id=key, old=old.advice[key].text, new=item.text)
            for key, item in new.advice.items() if key in old.advice and old.advice[key].text != item.text],
    )


def _unwithheld(old: KnowledgeBase, new: KnowledgeBase) -> dict[str, list[str]]:
    """Advice each old rule withheld that the same rule (or, removed, nothing) no longer withholds."""
    found = {}
    for key, before in old.rule_by_id.items():
        after = new.rule_by_id.get(key)
        kept = set(after.spec.then.withhold_advice) if after is not None else set()
        lost = [a for a in before.spec.then.withhold_advice if a not in kept]
        if lost:
            found[key] = lost
    return found


def _question_review(old: KnowledgeBase, new: KnowledgeBase) -> list[Review]:
    """A question's text or help, and the labels of the choice values both offer, that changed."""
    found = []
    for key, after in new.question_by_id.items():
        before = old.question_by_id.get(key)
        if before is None:
            continue
        for part in ("text", "help"):
            if getattr(before, part) != getattr(after, part):
                found.append(Review(kind=f"question {part}", id=key, old=getattr(before, part), new=getattr(after, part)))
        old_labels = {c.value: c.label for c in getattr(before, "choices", None) or []}
        for choice in getattr(after, "choices", None) or []:
            if choice.value in old_labels and old_labels[choice.value] != choice.label:
                # The person sees only the label: a label another value had sends this value instead.
                other = next((v for v, label in old_labels.items() if label == choice.label and v != choice.value), None)
                found.append(Review(kind="choice label", id=f"{key} = {choice.value}", old=old_labels[choice.value],
                                    new=choice.label, swapped_with=other))
    return found


def _rule_review(old: KnowledgeBase, new: KnowledgeBase) -> list[Review]:
    """A rule's own action text, and the reason of each red flag it keeps, that changed."""
    found = []
    for key, after in new.rule_by_id.items():
        before = old.rule_by_id.get(key)
        if before is None:
            continue
        if before.spec.then.action != after.spec.then.action:
            found.append(Review(kind="action", id=key, old=before.spec.then.action, new=after.spec.then.action))
        reasons = {flag.id: flag.reason for flag in before.spec.then.red_flags}
        for flag in after.spec.then.red_flags:
            if flag.id in reasons and reasons[flag.id] != flag.reason:
                found.append(Review(kind="red-flag reason", id=f"{key}: {flag.id}", old=reasons[flag.id], new=flag.reason))
    return found


def _manifest_diff(old: KnowledgeBase, new: KnowledgeBase) -> ManifestDiff:
    before, after = old.manifest, new.manifest
    old_packs = {p.name: p for p in before.packs}
    new_packs = {p.name: p for p in after.packs}
    by_default = lambda pack: pack.default or pack.always  # noqa: E731  (what loads when no --pack is given)
    both = [name for name in old_packs if name in new_packs]
    return ManifestDiff(
        packs=_section(old_packs, new_packs, _dump),
        no_longer_default=[n for n in both if by_default(old_packs[n]) and not by_default(new_packs[n])],
        now_default=[n for n in new_packs if by_default(new_packs[n]) and not (n in old_packs and by_default(old_packs[n]))],
        disclaimer=(Change(part="disclaimer", old=before.disclaimer, new=after.disclaimer)
                    if before.disclaimer != after.disclaimer else None),
        worsening_advice_added=[line for line in after.worsening_advice if line not in before.worsening_advice],
        worsening_advice_removed=[line for line in before.worsening_advice if line not in after.worsening_advice],
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
                 else f"{rule} ({_pack_concern(diff, rule)})" if rule.startswith("pack ") else rule for rule in lowered]
        lines += ["", f"LESS URGENT ({len(lowered)}): {', '.join(named)}: check these first."]
    lines += _render_review(diff)
    if diff.no_longer_withheld:
        named = [f"{rule} ({', '.join(advice)})" for rule, advice in diff.no_longer_withheld.items()]
        lines += ["", f"ADVICE NO LONGER WITHHELD ({len(named)}): {', '.join(named)}: advice a warning sign kept "
                      "back (massage beside a possible clot) may now be given beside it; check it was meant."]
    if diff.manifest.worsening_advice_removed:
        lines += ["", f"WORSENING ADVICE REMOVED ({len(diff.manifest.worsening_advice_removed)} line(s)): every result "
                      "no longer tells the person this; check it was meant (see Manifest below)."]
    if diff.rules.removed or any(c.part in ("condition", "derived facts") for item in diff.rules.changed
                                 for c in item.changes):
        lines += ["", "A removed rule or a changed condition or derived fact can also make cases less urgent: "
                      "'triage audit CASES --against OLD_DIR' shows which cases change."]
    if diff.generated is not None and diff.generated.less_urgent:
        lines += ["", f"LESS URGENT ON GENERATED CASES ({len(diff.generated.less_urgent)}): the changes above "
                      "answer these less urgently (see Generated cases below)."]
    if diff.generated is not None and diff.generated.safety_changes:
        lines += ["", f"UNSAFE ADVICE OR OUT OF SCOPE ON GENERATED CASES ({len(diff.generated.safety_changes)}): advice "
                      "newly given to an emergency or urgent case or no longer withheld, or 'not covered by this tool' "
                      "beside a finding (see Generated cases below)."]
    lines += _render_manifest(diff)
    reviewed = {item.id.split(" = ")[0].split(": ")[0] for item in diff.review}  # the question or rule of each
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
            lines.append(f"  {verb}: {item.id} ({', '.join(parts)})" + ("  LESS URGENT" if item.less_urgent else "")
                         + ("  NEEDS CLINICAL REVIEW" if section is not diff.causes and item.id in reviewed else ""))
            for change in item.changes:
                lines.append(f"    {change.part}: {_show(change.old)} -> {_show(change.new)}")
    if diff.generated is not None:
        lines += ["", *render_generated(diff.generated)]
    return "\n".join(lines)


def _render_review(diff: KnowledgeBaseDiff) -> list[str]:
    """NEEDS CLINICAL REVIEW: each changed wording a person acts on, old and new; swapped labels first."""
    if not diff.review:
        return []
    swapped = [item for item in diff.review if item.swapped_with is not None]
    lines = []
    if swapped:
        lines += ["", f"LABELS SWAPPED ({len(swapped)}): a person sees only the label, so picking it now sends "
                      "another answer:"]
        lines += [f"  {item.id} is now labelled {item.new!r}, the old label of {item.swapped_with!r} "
                  f"(it was {item.old!r})" for item in swapped]
    lines += ["", f"NEEDS CLINICAL REVIEW ({len(diff.review)}): wording a person acts on changed; a machine cannot "
                  "judge its meaning, so a clinician must read each:"]
    for item in diff.review:
        lines += [f"  {item.kind}: {item.id}" + ("  LABELS SWAPPED" if item.swapped_with is not None else ""),
                  f"    old: {_show(item.old)}", f"    new: {_show(item.new)}"]
    return lines


def _pack_concern(diff: KnowledgeBaseDiff, name: str) -> str:
    pack = name.removeprefix("pack ")
    return "removed" if pack in diff.manifest.packs.removed else "no longer used by default"


def _render_manifest(diff: KnowledgeBaseDiff) -> list[str]:
    """The Manifest section of the note: kb.yaml's packs, disclaimer and worsening advice."""
    manifest = diff.manifest
    if manifest.unchanged:
        return ["", "Manifest (kb.yaml): no changes to packs, disclaimer or worsening advice"]
    lines = ["", "Manifest (kb.yaml):"]
    concern = set(manifest.less_urgent_packs)
    lines += [f"  pack added:   {name}" + ("  (used by default)" if name in manifest.now_default else "") for name in manifest.packs.added]
    lines += [f"  pack removed: {name}" + ("  LESS URGENT" if name in concern else "") for name in manifest.packs.removed]
    for item in manifest.packs.changed:
        flag = ("  LESS URGENT: no longer used by default" if item.id in manifest.no_longer_default
                else "  now used by default" if item.id in manifest.now_default else "")
        lines.append(f"  pack changed: {item.id} ({', '.join(c.part for c in item.changes)}){flag}")
        lines += [f"    {c.part}: {_show(c.old)} -> {_show(c.new)}" for c in item.changes]
    if manifest.disclaimer is not None:
        lines.append(f"  disclaimer: {manifest.disclaimer.old} -> {manifest.disclaimer.new}")
    lines += [f"  worsening advice removed: {line}  FLAGGED" for line in manifest.worsening_advice_removed]
    lines += [f"  worsening advice added:   {line}" for line in manifest.worsening_advice_added]
    return lines
