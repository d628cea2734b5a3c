"""Hostile input, generated: malformed JSON, JSONL, YAML, CSV and FHIR mixed with valid cases.

On ``triage batch``, ``triage assess``, ``triage audit`` and ``assess_many`` the
invariants hold whatever the mix: no traceback (the runner re-raises any
exception), one record per case in, every valid case's record equal to
``assess`` on it, exit status 1, and each error naming its place (file and line,
row or item) and, where there is one, the field.

Examples are bounded and one engine serves every run, so this stays fast on
the three Pythons CI runs.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage
from triage import samples
from triage.cli import app, main
from triage.errors import CaseError

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RED_FLAGS = ["breathless_or_chest_pain", "one_leg_swollen", "saddle_numbness", "vaginal_bleeding", "fever"]


@pytest.fixture(scope="module", autouse=True)
def shared_engine(engine):
    """Every command in this module uses the session's engine instead of loading its own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.State, "engine", property(lambda self: engine))
        yield engine


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def valid_cases(kb, draw_seed: int, count: int) -> list[dict]:
    return list(samples.random_cases(kb.questions, count, draw_seed, id_prefix=f"v{draw_seed}-"))


def expected_record(engine, case) -> dict:
    result = engine.assess(case)
    return {"urgency": result.urgency.value, "causes": result.cause_ids,
            "red_flags": [f.id for f in result.red_flags], "advice": [a.id for a in result.advice]}


def assert_valid_record(engine, record, case, source):
    assert record["error"] is None, record
    assert record["source"] == source
    assert {k: record[k] for k in ("urgency", "causes", "red_flags", "advice")} == expected_record(engine, case)


# --------------------------------------------------------------------------- poison, as (text, what the error names)

def _fhir_nested(depth: int) -> str:
    item = {"linkId": "fever"}
    text = json.dumps(item)
    for _ in range(depth):
        text = '{"linkId": "fever", "item": [' + text + "]}"
    return '{"resourceType": "QuestionnaireResponse", "item": [' + text + "]}"


JSON_POISON = st.one_of(
    st.sampled_from(RED_FLAGS).map(lambda f: (f'{{"id": "d", "{f}": true, "{f}": false}}', f"'{f}': given more than once")),
    st.integers(4400, 6000).map(lambda n: ('{"weeks_pregnant": ' + "9" * n + "}", "digits")),
    st.integers(100, 3000).map(lambda n: ("[" * n + "]" * n, "nested")),
    st.integers(100, 2500).map(lambda n: ('{"a": ' * n + "1" + "}" * n, "nested")),
    st.just(('{"id": "\\ud800", "fever": true}', "lone surrogate")),
    st.sampled_from(RED_FLAGS).map(lambda f: (f'{{"resourceType": "QuestionnaireResponse", "{f}": true}}',
                                              f"'{f}': not an element of a FHIR QuestionnaireResponse")),
    st.sampled_from(["Patient", "Observation", "Bundle"]).map(lambda t: (f'{{"resourceType": "{t}"}}', "resourceType")),
    st.just(('{"resourceType": "QuestionnaireResponse", "item": [{"linkId": "fever", "answer": [{"1": true}]}]}',
             "'1': not an element of an answer")),
    st.integers(60, 1200).map(lambda n: (_fhir_nested(n), "nested")),
    st.just(('{"pain_severity": NaN}', "NaN")),
    st.just(('{"fever": tru', "not valid JSON")),
    st.just(("5", "mapping")),
    st.just(('{"leg_cramp": true}', "leg_cramp")),
    st.text(min_size=1, max_size=30).filter(lambda t: "\n" not in t).map(lambda t: ("@" + t, "not valid JSON")),
)
BYTE_POISON = st.binary(min_size=1, max_size=20).map(lambda b: b"\xff" + b.replace(b"\n", b" "))

YAML_POISON = st.one_of(
    st.sampled_from(RED_FLAGS).map(lambda f: (f"id: d\n{f}: true\n{f}: false\n", f"'{f}': given more than once")),
    st.just(("? [a]\n: 1\n", "a key must be text")),
    st.just(("1: true\n", "key '1' is not text")),
    st.just(("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "anchors and aliases")),
    st.integers(4400, 6000).map(lambda n: ("weeks_pregnant: " + "9" * n + "\n", "digits")),
    st.integers(100, 1500).map(lambda n: ("[" * n + "]" * n + "\n", "nest")),
    st.just(("fever: [\n", "not valid YAML")),
    st.just(("weeks_pregnant: 0x1E\n", "weeks_pregnant")),
    st.just(("just some text\n", "mapping")),
)


# --------------------------------------------------------------------------- batch: JSONL


@SETTINGS
@given(data=st.data())
def test_batch_jsonl_with_poisoned_lines(shared_engine, data):
    engine = shared_engine
    seed = data.draw(st.integers(0, 10_000))
    good = valid_cases(engine.knowledge_base, seed, data.draw(st.integers(0, 5)))
    bad = data.draw(st.lists(st.one_of(JSON_POISON, BYTE_POISON.map(lambda b: (b, "not UTF-8"))), min_size=1, max_size=4))
    lines = [("valid", c) for c in good] + [("poison", p) for p in bad]
    lines = data.draw(st.permutations(lines))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "cases.jsonl")
        with open(path, "wb") as handle:
            for kind, item in lines:
                text = json.dumps(item) if kind == "valid" else item[0]
                handle.write((text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text) + b"\n")
        result = run("batch", "-q", str(path))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1
    assert len(records) == len(lines)
    for number, ((kind, item), record) in enumerate(zip(lines, records, strict=True), start=1):
        source = f"{path}:{number}"
        if kind == "valid":
            assert_valid_record(engine, record, item, source)
        else:
            assert record["source"] == source and record["urgency"] is None
            assert item[1] in record["error"], (item, record)
            assert f"error: {source}" in result.stderr


# --------------------------------------------------------------------------- batch and assess: JSON and YAML files


@SETTINGS
@given(data=st.data())
def test_batch_and_assess_on_a_directory_of_poisoned_json_and_yaml_files(shared_engine, data):
    engine = shared_engine
    seed = data.draw(st.integers(0, 10_000))
    good = valid_cases(engine.knowledge_base, seed, data.draw(st.integers(0, 4)))
    bad_json = data.draw(st.lists(JSON_POISON, max_size=3))
    bad_yaml = data.draw(st.lists(YAML_POISON, min_size=1, max_size=3))
    with tempfile.TemporaryDirectory() as directory:
        files = {}
        for number, case in enumerate(good):
            name = f"{data.draw(st.sampled_from(['a', 'm', 'z']))}{number}_valid" + (".yaml" if number % 2 else ".json")
            Path(directory, name).write_text(json.dumps(case))
            files[name] = ("valid", case)
        for number, (text, needle) in enumerate(bad_json):
            Path(directory, f"p{number}_bad.json").write_bytes(text.encode("utf-8", "surrogatepass"))
            files[f"p{number}_bad.json"] = ("poison", needle)
        for number, (text, needle) in enumerate(bad_yaml):
            Path(directory, f"q{number}_bad.yaml").write_text(text)
            files[f"q{number}_bad.yaml"] = ("poison", needle)
        result = run("batch", "-q", directory)
        records = {Path(r["source"]).name: r for r in map(json.loads, result.stdout.splitlines())}
        assert result.exit_code == 1
        assert sorted(records) == sorted(files)  # one record per file, none lost, none made up
        for name, (kind, item) in files.items():
            if kind == "valid":
                assert_valid_record(engine, records[name], item, str(Path(directory, name)))
            else:
                assert item in records[name]["error"], (name, records[name])
        # triage assess on each poisoned file: exit 1, a message naming the file, no traceback
        for name, (kind, item) in files.items():
            if kind == "poison":
                single = run("assess", str(Path(directory, name)))
                assert single.exit_code == 1 and name in single.stderr and item in single.stderr


# --------------------------------------------------------------------------- batch: CSV


CSV_COLUMNS = ["id", "weeks_pregnant", "leg_cramps", "breathless_or_chest_pain", "numbness", "pain_severity"]
CSV_POISON = st.one_of(
    st.just((b"b\xe9\xff,30,yes,no,none,3\n", "not UTF-8")),
    st.just((b'"open,30,yes,no,none,3\n', "quoted cell is not closed")),
    st.just((b"short,30\n", "cells")),
    st.sampled_from(["\u0663\u0660", "\uff13\uff10", "3_0", "+30", "0x1E"]).map(
        lambda n: (f"digits,{n},yes,no,none,3\n".encode(), "field 'weeks_pregnant'")),
    st.just((b"x,30,maybe,no,none,3\n", "field 'leg_cramps'")),
    st.just((b"big," + b"9" * 5000 + b",yes,no,none,3\n", "field 'weeks_pregnant'")),
)


@st.composite
def csv_case(draw):
    return {"id": f"c{draw(st.integers(0, 10**6))}", "weeks_pregnant": draw(st.integers(0, 42)),
            "leg_cramps": draw(st.booleans()), "breathless_or_chest_pain": draw(st.booleans()),
            "numbness": draw(st.sampled_from(["none", "tingling", "numb"])), "pain_severity": draw(st.integers(0, 10))}


@SETTINGS
@given(good=st.lists(csv_case(), max_size=5), bad=st.lists(CSV_POISON, min_size=1, max_size=4), data=st.data())
def test_batch_csv_with_poisoned_rows_loses_no_row(shared_engine, good, bad, data):
    engine = shared_engine
    rows = data.draw(st.permutations([("valid", c) for c in good] + [("poison", p) for p in bad]))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "cases.csv")
        with open(path, "wb") as handle:
            handle.write((",".join(CSV_COLUMNS) + "\n").encode())
            for kind, item in rows:
                if kind == "valid":
                    text = io.StringIO()
                    csv.writer(text, lineterminator="\n").writerow(
                        ["yes" if v is True else "no" if v is False else v for v in item.values()])
                    handle.write(text.getvalue().encode())
                else:
                    handle.write(item[0])
        result = run("batch", "-q", str(path))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1 and len(records) == len(rows)
    for number, ((kind, item), record) in enumerate(zip(rows, records, strict=True), start=2):
        if kind == "valid":
            assert_valid_record(engine, record, item, f"{path}:{number}")
        else:
            assert record["source"] == f"{path}:{number}" and item[1] in record["error"], (item, record)


# --------------------------------------------------------------------------- audit


@SETTINGS
@given(data=st.data())
def test_audit_reports_every_readable_vignette_and_names_each_bad_one(shared_engine, data):
    engine = shared_engine
    seed = data.draw(st.integers(0, 10_000))
    good = valid_cases(engine.knowledge_base, seed, data.draw(st.integers(1, 4)))
    bad = data.draw(st.lists(st.one_of(JSON_POISON.map(lambda p: (".json", p)), YAML_POISON.map(lambda p: (".yaml", p))),
                             min_size=1, max_size=3))
    with tempfile.TemporaryDirectory() as directory:
        for number, case in enumerate(good):
            vignette = {**case, "id": f"g{number}", "expected_urgency": engine.assess(case).urgency.value}
            Path(directory, f"g{number}.json").write_text(json.dumps(vignette))
        for number, (suffix, (text, _)) in enumerate(bad):
            Path(directory, f"bad{number}{suffix}").write_bytes(text.encode("utf-8", "surrogatepass"))
        result = run("audit", "--format", "json", directory)
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["vignettes"] == len(good) and report["under_triage"] == 0
    for number, (suffix, (_, needle)) in enumerate(bad):
        line = next(line for line in result.stderr.splitlines() if f"bad{number}{suffix}" in line)
        assert needle in line or "expected_urgency" in line or "id" in line


# --------------------------------------------------------------------------- assess_many


class Unpicklable:
    def __reduce__(self):
        raise TypeError("cannot pickle this")


def _deep_dict(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _deep_fhir(depth: int) -> dict:
    item: dict = {"linkId": "fever"}
    for _ in range(depth):
        item = {"linkId": "fever", "item": [item]}
    return {"resourceType": "QuestionnaireResponse", "item": [item]}


OBJECT_POISON = st.one_of(
    st.just({1: True}),
    st.just({"fever": Unpicklable()}),
    st.just({"fever": lambda: True}),
    st.just({"resourceType": "QuestionnaireResponse", "item": [{"linkId": "fever", "answer": [{1: True}]}]}),
    st.just({"resourceType": "QuestionnaireResponse", "breathless_or_chest_pain": True}),
    st.just({"resourceType": 5}),
    st.integers(100, 3000).map(_deep_fhir),
    st.integers(100, 3000).map(lambda n: {"fever": _deep_dict(n)}),
    st.just({"weeks_pregnant": 10**5000}),
    st.sampled_from([None, 5, "text", [1, 2], b"bytes"]),
    st.just({b"fever": True}),
)


@SETTINGS
@given(data=st.data())
def test_assess_many_returns_one_result_per_case_whatever_the_cases(shared_engine, data):
    engine = shared_engine
    good = valid_cases(engine.knowledge_base, data.draw(st.integers(0, 10_000)), data.draw(st.integers(0, 5)))
    bad = data.draw(st.lists(OBJECT_POISON, min_size=1, max_size=4))
    cases = data.draw(st.permutations([("valid", c) for c in good] + [("poison", p) for p in bad]))
    results = list(triage.assess_many([c for _, c in cases], workers=1, knowledge_base=engine.knowledge_base,
                                      errors="return"))
    assert len(results) == len(cases)
    for number, ((kind, case), result) in enumerate(zip(cases, results, strict=True)):
        if kind == "valid":
            assert result == engine.assess(case)
        else:
            assert isinstance(result, CaseError) and result.source == f"cases[{number}]", result


def test_assess_many_gives_the_same_errors_with_one_and_two_workers(engine):
    cases = valid_cases(engine.knowledge_base, 7, 560)
    poison = [{1: True}, {"fever": Unpicklable()}, {"fever": lambda: True}, _deep_fhir(2000), {"weeks_pregnant": 10**5000},
              {"resourceType": "QuestionnaireResponse", "fever": True}, None, {"id": "\ud800", "fever": True}]
    for offset, bad in enumerate(poison):
        cases.insert(offset * 70 + 3, bad)
    one = list(triage.assess_many(cases, workers=1, knowledge_base=engine.knowledge_base, errors="return"))
    two = list(triage.assess_many(cases, workers=2, knowledge_base=engine.knowledge_base, errors="return"))
    assert len(one) == len(two) == len(cases)
    assert [str(r) if isinstance(r, CaseError) else r for r in one] == [str(r) if isinstance(r, CaseError) else r for r in two]
    assert sum(isinstance(r, CaseError) for r in one) == len(poison) - 1  # a surrogate id is a valid id in the library
    with pytest.raises(CaseError):
        list(triage.assess_many(cases, workers=2, knowledge_base=engine.knowledge_base))
