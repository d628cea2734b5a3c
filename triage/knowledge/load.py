"""Reading a knowledge base and its packs from YAML, fail-closed, with the strict reader (:mod:`triage.reading`).

Every problem found is collected and raised together as :class:`KnowledgeBaseError`,
each naming the file, the rule (or question, cause, advice) and the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..case import CaseBase
from ..errors import CaseError, KnowledgeBaseError
from ..provenance import HIDDEN, LINK_LOOP, Listing, files_digest, knowledge_base_digest, scan_knowledge_base
from ..questions import QuestionSet
from ..reading import KNOWLEDGE_BASE_BYTES, decode, display_name, parse_yaml, read_bytes
from .base import KnowledgeBase
from .checks import check_references
from .models import AdviceFile, CauseFile, Manifest, Rule, RuleFile


def default_path() -> Path:
    """Where the shipped knowledge base is: inside the installed package, else the source tree."""
    here = Path(__file__).resolve().parent.parent  # triage/, this module being triage/knowledge/load.py
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "kb.yaml").is_file():
            return candidate
    raise KnowledgeBaseError([f"no knowledge base found (looked in {here / 'rules'} and {here.parent / 'rules'})"])


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
    listing = scan_knowledge_base(root)  # what is hashed is what the rule files are taken from
    digest = files_digest(listing.files)
    problems.extend(f"{root / name}: {LINK_LOOP}: remove the link" for name, why in listing.left_out if why == LINK_LOOP)

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
        known_problems = len(problems)
        files = _rule_files(listing, pack, problems)
        if not files and len(problems) == known_problems:  # else the problems say why
            problems.append(f"{root / pack}: pack {pack!r} has no rule files")
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


_RESERVED_FIELDS = {"id"} | {name for name in dir(CaseBase) if not name.startswith("__")} | {"model_config"}


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


def _rule_files(listing: Listing, pack: str, problems: list[str]) -> list[Path]:
    """A pack's rule files, from the listing the digest is made of; what would be ignored is listed as a problem.

    A rule file is a regular file directly in the pack's directory whose name ends in
    ``.yaml``. Anything else that looks like one (``.yml``, ``.YAML``, a YAML file in a
    subdirectory) would be silently ignored while the author believes it is in use, so
    it is refused. A hidden or ``__`` one is outside the digest (:mod:`triage.provenance`):
    read, it would change results while the digest still named the reviewed rules, so it
    is refused, not read. A FIFO or device would block or never end: refused, never opened.
    Other files (notes such as ``NOT_ENCODED.md``) are allowed.
    """
    prefix = pack + "/"
    found = []
    for name, path in listing.files:
        if not name.startswith(prefix):
            continue
        inside = name[len(prefix):]
        if "/" not in inside and inside.endswith(".yaml"):
            found.append(path)
        elif _looks_like_yaml(inside) and "/" in inside:
            problems.append(f"{name}: a YAML file in a subdirectory of pack {pack!r} is not read (rule files must sit "
                            f"directly in {pack}/): move it to {pack}/ or remove it")
        elif _looks_like_yaml(inside):
            problems.append(f"{name}: not read as a rule file (a rule file's name must end in '.yaml', in lower case): "
                            f"rename it to {inside.rsplit('.', 1)[0]}.yaml or remove it")
    for name, why in listing.left_out:
        if not name.startswith(prefix) or why == LINK_LOOP:
            continue
        if why == HIDDEN:
            if _looks_like_yaml(name.rsplit("/", 1)[-1]):
                problems.append(f"{name}: a hidden rule file (its name starts with '.' or '__') is outside the "
                                "knowledge base's digest: rename it or remove it")
        else:
            problems.append(f"{name}: {why}: remove it (or replace it with a regular file)")
    return found


def _looks_like_yaml(name: str) -> bool:
    return name.lower().endswith((".yaml", ".yml"))


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
