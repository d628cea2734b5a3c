"""The knowledge base: questions, catalogue and rule packs, loaded from YAML and validated.

Layout of a knowledge base directory (see ``rules/`` and the README)::

    kb.yaml                 name, version, packs, disclaimer, worsening advice
    questions.yaml          the questionnaire; the case model is built from it
    catalogue/causes.yaml   cause ids and labels
    catalogue/advice.yaml   advice ids, texts and sources
    sources/                the source documents quoted by rules
    <pack>/*.yaml           rule files of each pack

Every problem is reported with the file, the rule id and the field.
"""

from __future__ import annotations

import os
import stat
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .case import CaseBase, build_case_model
from .conditions import Condition, FactTest, FieldTest, walk
from .errors import CaseError, KnowledgeBaseError
from .provenance import knowledge_base_digest
from .questions import Question, QuestionSet
from .reading import KNOWLEDGE_BASE_BYTES, decode, display_name, parse_yaml, read_bytes
from .urgency import Urgency

ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a rule or advice comes from: a document and a verbatim quote, or a reference."""

    document: str | None = None
    quote: str | None = None
    reference: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "Source":
        if self.reference is not None:
            if self.document is not None or self.quote is not None:
                raise ValueError("a source is either {document, quote} or {reference}, not both")
        elif not (self.document and self.quote):
            raise ValueError("a source needs both document and quote, or a reference")
        return self

    def cite(self) -> str:
        """One line naming the source."""
        if self.reference:
            return self.reference
        return f'{self.document}: "{self.quote}"'


class Cause(_Strict):
    """A likely cause a rule can name."""

    id: str = Field(pattern=ID_PATTERN)
    label: str
    description: str | None = None


class Advice(_Strict):
    """A piece of advice a rule can give."""

    id: str = Field(pattern=ID_PATTERN)
    text: str
    evidence: str | None = None
    sources: list[Source] = Field(min_length=1)


class RedFlagSpec(_Strict):
    """A warning sign a rule reports, with the reason in plain language."""

    id: str = Field(pattern=ID_PATTERN)
    reason: str


class Then(_Strict):
    """What a rule concludes when it fires."""

    urgency: Urgency | None = None
    causes: list[str] = []
    red_flags: list[RedFlagSpec] = []
    advice: list[str] = []
    withhold_advice: list[str] = []  # advice unsafe with this finding (e.g. massage with a clot)
    derive: list[str] = []
    # What to do, in place of the urgency level's own action, when this rule decides the
    # urgency (labour at term: phone the unit). Used only if every rule at that level has one.
    action: str | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "Then":
        if not (self.urgency or self.causes or self.red_flags or self.advice or self.derive):
            raise ValueError("'then' must give at least one of urgency, causes, red_flags, advice, derive")
        if self.action is not None and self.urgency is None:
            raise ValueError("'then.action' needs an urgency: it replaces that level's action")
        return self


class Examples(_Strict):
    """Cases that must fire the rule, and near misses that must not."""

    fires: list[dict[str, Any]] = Field(min_length=1)
    does_not_fire: list[dict[str, Any]] = Field(min_length=1)


class RuleSpec(_Strict):
    """One rule as written in a rule file."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str | None = None
    when: Condition
    then: Then
    sources: list[Source] = Field(min_length=1)
    examples: Examples


class RuleFile(_Strict):
    """The contents of one rule file."""

    rules: list[RuleSpec] = Field(min_length=1)


class Rule(BaseModel):
    """A loaded rule: the spec plus where it came from."""

    model_config = ConfigDict(frozen=True)

    spec: RuleSpec
    pack: str
    file: str
    order: int

    @property
    def id(self) -> str:
        return self.spec.id


class PackInfo(_Strict):
    """A rule pack named in ``kb.yaml``."""

    name: str = Field(pattern=ID_PATTERN)
    description: str
    always: bool = Field(default=False, description="loaded whatever packs are selected")
    default: bool = True


class Manifest(_Strict):
    """The contents of ``kb.yaml``."""

    name: str
    version: str
    packs: list[PackInfo] = Field(min_length=1)
    disclaimer: str
    worsening_advice: list[str] = Field(min_length=1)


class CauseFile(_Strict):
    causes: list[Cause]


class AdviceFile(_Strict):
    advice: list[Advice]


def default_path() -> Path:
    """Where the shipped knowledge base is: inside the installed package, else the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "kb.yaml").is_file():
            return candidate
    raise KnowledgeBaseError([f"no knowledge base found (looked in {here / 'rules'} and {here.parent / 'rules'})"])


class KnowledgeBase:
    """A validated knowledge base with the packs selected for use."""

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        questions: list[Question],
        causes: dict[str, Cause],
        advice: dict[str, Advice],
        rules: list[Rule],
        packs: list[str],
        sha256: str | None = None,
        groups: dict | None = None,
    ):
        self.path = path
        # The digest of the files as they were loaded (triage.provenance); computed
        # now when not given, for a knowledge base built by hand.
        self.sha256 = sha256 if sha256 is not None else knowledge_base_digest(path)
        self.groups = groups or {}  # group id -> (Group, member question ids); see questions.Group
        self.manifest = manifest
        self.questions = questions
        self.causes = causes
        self.advice = advice
        self.rules = rules
        self.packs = packs

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def case_model(self) -> type[CaseBase]:
        """The pydantic model of a case for this knowledge base."""
        return build_case_model(self.questions)

    @cached_property
    def rule_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def document_text(self, name: str) -> str | None:
        """The text of a source document, or None when it is missing; :class:`KnowledgeBaseError` if unreadable."""
        path = self.path / "sources" / name
        if not path.is_file():
            return None
        try:
            return decode(read_bytes(path, KNOWLEDGE_BASE_BYTES), display_name(path))
        except CaseError as error:
            raise KnowledgeBaseError([str(error)]) from None

    def __repr__(self) -> str:
        return f"<KnowledgeBase {self.name} {self.version} packs={self.packs} rules={len(self.rules)}>"


def load_knowledge_base(path: str | os.PathLike | None = None, packs: list[str] | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base.

    ``path`` defaults to the shipped one. ``packs`` selects rule packs by name
    (packs marked ``always`` are loaded regardless); by default every pack marked
    ``default``. Raises :class:`KnowledgeBaseError` listing every problem found.
    """
    root = Path(path) if path is not None else default_path()
    problems: list[str] = []
    if not (root / "kb.yaml").is_file():
        raise KnowledgeBaseError([f"{root}: not a knowledge base (no kb.yaml)"])
    digest = knowledge_base_digest(root)

    manifest = _load_model(root / "kb.yaml", Manifest, problems)
    question_set = _load_model(root / "questions.yaml", QuestionSet, problems)
    cause_file = _load_model(root / "catalogue" / "causes.yaml", CauseFile, problems)
    advice_file = _load_model(root / "catalogue" / "advice.yaml", AdviceFile, problems)
    if problems:
        raise KnowledgeBaseError(problems)

    questions = question_set.questions
    # A question becomes a field of the case model: a name the model itself uses
    # (id, answers, model_config, ...) would break it, so it is refused here.
    reserved = sorted({q.id for q in questions} & _RESERVED_FIELDS)
    if reserved:
        raise KnowledgeBaseError([f"{root / 'questions.yaml'}: question {name}: id: {name!r} is reserved by the case model"
                                  for name in reserved])
    causes = _unique(cause_file.causes, "cause", root / "catalogue" / "causes.yaml", problems)
    advice = _unique(advice_file.advice, "advice", root / "catalogue" / "advice.yaml", problems)
    _unique(questions, "question", root / "questions.yaml", problems)

    known_packs = [p.name for p in manifest.packs]
    if packs is None:
        selected = [p.name for p in manifest.packs if p.default or p.always]
    else:
        unknown = [p for p in packs if p not in known_packs]
        if unknown:
            raise KnowledgeBaseError([f"{root / 'kb.yaml'}: unknown pack(s) {', '.join(unknown)}; known: {', '.join(known_packs)}"])
        selected = [p.name for p in manifest.packs if p.always or p.name in packs]

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for pack in selected:
        pack_dir = root / pack
        files = sorted(pack_dir.glob("*.yaml")) if pack_dir.is_dir() else []
        if not files:
            problems.append(f"{pack_dir}: pack {pack!r} has no rule files")
        files = [file for file in files if _rule_file_problem(file, root, problems)]
        for file in files:
            rule_file = _load_model(file, RuleFile, problems)
            if rule_file is None:
                continue
            for spec in rule_file.rules:
                where = f"{_rel(file, root)}: rule {spec.id}"
                if spec.id in seen:
                    problems.append(f"{where}: id: duplicate rule id (also in {seen[spec.id]})")
                seen[spec.id] = _rel(file, root)
                rules.append(Rule(spec=spec, pack=pack, file=_rel(file, root), order=len(rules)))

    groups = {g.id: (g, members) for g, members in zip(question_set.groups, question_set.group_members().values(), strict=True)}
    kb = KnowledgeBase(root, manifest, questions, causes, advice, rules, selected, digest, groups)
    problems.extend(check_references(kb))
    if knowledge_base_digest(root) != digest:  # the digest must name what was read, not a mix
        problems.append(f"{root}: files changed while the knowledge base was being loaded; load it again")
    if problems:
        raise KnowledgeBaseError(problems)
    return kb


def check_references(kb: KnowledgeBase) -> list[str]:
    """Problems with what rules refer to: fields and their values, facts, causes, advice, documents."""
    problems = []
    derived = {fact for rule in kb.rules for fact in rule.spec.then.derive}
    for rule in kb.rules:
        where = f"{rule.file}: rule {rule.id}"
        for test in walk(rule.spec.when):
            if isinstance(test, FactTest):
                if test.fact not in derived:
                    problems.append(f"{where}: when: fact {test.fact!r} is derived by no rule in the selected packs")
            else:
                problems.extend(f"{where}: when: {p}" for p in _check_field_test(test, kb.question_by_id))
        for cause in rule.spec.then.causes:
            if cause not in kb.causes:
                problems.append(f"{where}: then.causes: unknown cause {cause!r} (add it to catalogue/causes.yaml)")
        for advice in [*rule.spec.then.advice, *rule.spec.then.withhold_advice]:
            if advice not in kb.advice:
                problems.append(f"{where}: then.advice: unknown advice {advice!r} (add it to catalogue/advice.yaml)")
        for source in rule.spec.sources:
            if source.document:
                problems.extend(_document_problems(kb, source.document, f"{where}: sources"))
    for item in kb.advice.values():
        for source in item.sources:
            if source.document:
                problems.extend(_document_problems(kb, source.document, f"catalogue/advice.yaml: advice {item.id}: sources"))
    for question in kb.questions:
        if question.ask_when is not None:
            for test in walk(question.ask_when):
                if isinstance(test, FieldTest):
                    problems.extend(
                        f"questions.yaml: question {question.id}: ask_when: {p}"
                        for p in _check_field_test(test, kb.question_by_id)
                    )
                else:
                    problems.append(f"questions.yaml: question {question.id}: ask_when: only field tests are allowed, not facts")
    problems.extend(_detail_problems(kb))
    return problems


def _document_problems(kb: KnowledgeBase, name: str, where: str) -> list[str]:
    """A cited source document that is missing, or cannot be read as UTF-8 text."""
    try:
        if kb.document_text(name) is None:
            return [f"{where}: document {name!r} is not in sources/"]
    except KnowledgeBaseError as error:
        return [f"{where}: document {name!r}: {problem}" for problem in error.problems]
    return []


_RESERVED_FIELDS = {"id"} | {name for name in dir(CaseBase) if not name.startswith("__")} | {"model_config"}


def _detail_problems(kb: KnowledgeBase) -> list[str]:
    """A ``detail`` question is asked only on request, so no urgency or red flag may rest on it.

    Facts derived from a detail question count as detail too, so chaining cannot hide it.
    """
    detail = {q.id for q in kb.questions if q.detail}
    if not detail:
        return []
    tainted_facts: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in kb.rules:
            if set(rule.spec.then.derive) - tainted_facts and _uses(rule, detail, tainted_facts):
                tainted_facts |= set(rule.spec.then.derive)
                changed = True
    problems = []
    for rule in kb.rules:
        then = rule.spec.then
        raises = (then.urgency is not None and then.urgency is not Urgency.SELF_CARE) or then.red_flags
        used = _uses(rule, detail, tainted_facts)
        if raises and used:
            problems.append(
                f"{rule.file}: rule {rule.id}: when: uses {', '.join(sorted(used))}, which only detail "
                f"questions decide, to set urgency or a red flag (remove 'detail: true' from the question)"
            )
    return problems


def _uses(rule: Rule, fields: set[str], facts: set[str]) -> set[str]:
    """The fields in ``fields`` and facts in ``facts`` that a rule's condition tests."""
    used = set()
    for test in walk(rule.spec.when):
        if isinstance(test, FieldTest) and test.field in fields:
            used.add(test.field)
        elif isinstance(test, FactTest) and test.fact in facts:
            used.add(test.fact)
    return used


def _check_field_test(test: FieldTest, questions: dict[str, Question]) -> list[str]:
    import difflib

    question = questions.get(test.field)
    if question is None:
        hint = difflib.get_close_matches(test.field, list(questions), n=1)
        return [f"field {test.field!r}: no such question" + (f" (did you mean {hint[0]!r}?)" if hint else "")]
    op, operand = test.operator, test.operand
    if op == "known":
        return []
    if op in (">=", "<=", ">", "<"):
        if not question.ordered:
            return [f"field {test.field!r}: {op} needs an integer question, {test.field} is {question.type}"]
        return []
    values = operand if op == "in" else [operand]
    bad = [v for v in values if not question.accepts(v)]
    if bad:
        return [f"field {test.field!r}: {op} {bad[0]!r} is not a valid answer; expected {question.describe_allowed()}"]
    return []


def _unique(items, kind: str, file: Path, problems: list[str]) -> dict:
    result = {}
    for item in items:
        if item.id in result:
            problems.append(f"{file}: {kind} {item.id}: id: duplicate {kind} id")
        result[item.id] = item
    return result


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> Any:
    """Read a YAML file with the strict reader (:mod:`triage.reading`); raises :class:`CaseError` naming the line."""
    return parse_yaml(decode(read_bytes(path, KNOWLEDGE_BASE_BYTES), display_name(path)), display_name(path), aliases=True)


def _rule_file_problem(file: Path, root: Path, problems: list[str]) -> bool:
    """Whether a pack's ``*.yaml`` entry may be read as a rule file; if not, the problem is listed.

    A hidden or ``__`` file is outside the digest (:mod:`triage.provenance`), so rules in it
    would change results while the digest still named the reviewed rules: refused, not
    read. A FIFO or device would block or never end: refused before it is opened.
    """
    if file.name.startswith((".", "__")):
        problems.append(f"{_rel(file, root)}: a hidden rule file (its name starts with '.' or '__') is outside the "
                        "knowledge base's digest: rename it or remove it")
        return False
    try:
        regular = stat.S_ISREG(file.stat().st_mode)
    except OSError as error:
        problems.append(f"{_rel(file, root)}: cannot read it: {error.strerror}")
        return False
    if not regular:
        problems.append(f"{_rel(file, root)}: not a regular file")
        return False
    return True


def _load_model(path: Path, model: type[BaseModel], problems: list[str]):
    try:
        data = read_yaml(path)
    except CaseError as error:
        problems.append(f"{display_name(path)}: file is missing" if error.problems == ["file not found"] else str(error))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(f"{path}: {_locate(data, err)}" for err in error.errors())
        return None


def _locate(data: Any, error: dict) -> str:
    """Describe a validation error as 'rule <id>: <field path>: <message>'."""
    loc = list(error["loc"])
    prefix = ""
    # Name the rule (or question, cause, advice) by id rather than list index.
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(data, dict):
        items = data.get(loc[0])
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            kind = {"rules": "rule", "questions": "question", "causes": "cause", "advice": "advice"}.get(str(loc[0]), str(loc[0]))
            prefix = f"{kind} {items[loc[1]].get('id', '#' + str(loc[1] + 1))}: "
            loc = loc[2:]
            if kind == "question" and loc[:1] == [items[error["loc"][1]].get("type")]:
                loc = loc[1:]  # the question's type, which pydantic's tagged union adds to the path
    path = ".".join(str(p) for p in loc)
    message = error["msg"].removeprefix("Value error, ")
    return f"{prefix}{path or '(top level)'}: {message}"
