"""Assessing many cases in worker processes: same results as one by one, in order, streaming."""

from __future__ import annotations

import json
import pickle
from collections import Counter

import pytest

import triage
from triage import samples
from triage.inputs import CASE, Entry
from triage.parallel import IN_FLIGHT, RuleData, run_chunks
from triage.workers import Fired, fire_chunk, record_chunk


def random_cases(kb, count, seed=0):
    """Valid random cases (seeded), as a list."""
    return list(samples.random_cases(kb.questions, count, seed, id_prefix="r"))


def test_assess_many_in_two_processes_equals_assess_one_by_one(engine):
    cases = random_cases(engine.knowledge_base, 600)
    results = list(triage.assess_many(cases, workers=2, knowledge_base=engine.knowledge_base))
    assert results == [engine.assess(case) for case in cases]


def test_assess_many_raises_on_an_invalid_case_naming_its_position(engine):
    cases = [{"leg_cramps": True}, {"leg_cramp": True}]
    results = triage.assess_many(cases, workers=1)
    assert next(results).urgency is triage.Urgency.SELF_CARE
    with pytest.raises(triage.CaseError, match=r"cases\[1\]: field 'leg_cramp'"):
        next(results)


def test_assess_many_can_return_errors_in_place_and_go_on(engine):
    cases = [{"leg_cramp": True}, triage.Case(leg_cramps=True), {"weakness": "severe"}]
    results = list(triage.assess_many(cases, workers=1, errors="return"))
    assert isinstance(results[0], triage.CaseError) and results[0].problems[0].startswith("field 'leg_cramp'")
    assert results[1:] == [engine.assess(cases[1]), engine.assess(cases[2])]


def test_a_case_error_survives_pickling_for_the_trip_back_from_a_worker():
    error = triage.CaseError(["field 'x': bad"], "f.jsonl:3", "c1")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.problems, copy.source, copy.case_id, str(copy)) == (error.problems, error.source, error.case_id, str(error))


def test_a_worker_rebuilds_the_knowledge_base_from_its_files(kb):
    data = RuleData.of(kb)
    rebuilt = pickle.loads(pickle.dumps(data)).load()
    assert rebuilt.path != kb.path
    assert [r.id for r in rebuilt.rules] == [r.id for r in kb.rules] and rebuilt.packs == kb.packs


def test_the_stream_is_read_only_a_few_chunks_ahead_of_the_results(engine):
    read = 0

    def entries():
        nonlocal read
        for number in range(100_000):
            read += 1
            yield Entry(f"cases[{number}]", CASE, {"leg_cramps": True})

    chunks = run_chunks(entries(), RuleData.of(engine.knowledge_base), fire_chunk, workers=2, chunk_size=10)
    for _ in range(5):
        next(chunks)
    chunks.close()
    assert read <= 10 * (5 + IN_FLIGHT * 2 + 2)  # bounded by the chunks in flight, not by the input


def test_workers_use_the_chosen_packs_not_the_default_ones():
    kb = triage.load_knowledge_base(packs=["documents"])
    cases = random_cases(kb, 300, seed=8)
    results = list(triage.assess_many(cases, workers=2, knowledge_base=kb))
    with pytest.warns(triage.SafetyPackOffWarning):  # this caller left the safety pack out
        engine = triage.Engine(kb)
    assert results == [engine.assess(case) for case in cases]
    assert all(r.knowledge_base.packs == ["core", "documents"] for r in results)
    assert all(r.warnings for r in results)  # and every result made by the workers says so


def test_fire_chunk_gives_what_fired_on_each_case_or_its_error_in_order(engine):
    kb = engine.knowledge_base
    chunk = [Entry("cases[0]", CASE, {"leg_cramps": True}), Entry("cases[1]", CASE, {"leg_cramp": True}),
             Entry("cases[2]", CASE, {"id": "c2", "weakness": "severe"})]
    first, second, third = fire_chunk(engine, chunk)
    assert isinstance(first, Fired) and isinstance(third, Fired) and isinstance(second, triage.CaseError)
    assert first.assessment(kb) == engine.assess({"leg_cramps": True})
    assert third.case_id == "c2" and third.assessment(kb) == engine.assess({"id": "c2", "weakness": "severe"})
    assert second.source == "cases[1]" and second.problems[0].startswith("field 'leg_cramp'")
    assert second.__traceback__ is None and second.__context__ is None  # nothing but the error travels back
    assert pickle.loads(pickle.dumps([first, second]))[0] == first


def test_record_chunk_gives_one_record_per_case_and_counts_urgencies_and_errors(engine):
    chunk = [Entry("f:1", CASE, {"leg_cramps": True}), Entry("f:2", CASE, {"leg_cramp": True}),
             Entry("f:3", CASE, {"weakness": "severe"})]
    records = record_chunk(engine, chunk, "jsonl")
    assert [json.loads(text)["source"] for text in records.texts] == ["f:1", "f:2", "f:3"]
    expected = [engine.assess(chunk[0].payload).urgency.value, engine.assess(chunk[2].payload).urgency.value]
    assert records.urgencies == Counter(expected)
    assert len(records.errors) == 1 and records.errors[0].startswith("f:2: field 'leg_cramp'")
