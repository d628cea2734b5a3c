"""The readers under fuzzing: the kept corpus replayed, and a bounded hypothesis fuzz (atheris runs in CI too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzz_readers import read_everything
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CORPUS = sorted((Path(__file__).parent / "fuzz_corpus").iterdir())
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["fever", "resourceType", "item"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["fever", "weeks_pregnant", "resourceType", "item", "linkId", "answer", "valueBoolean", "id"])
        | st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_the_corpus_gives_data_or_a_case_error(path, engine):
    read_everything(path.read_bytes(), engine)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_give_data_or_a_case_error(data, engine):
    read_everything(data, engine)


@FUZZ
@given(value=json_values, cut=st.integers(0, 400), junk=st.sampled_from(["", "}", "]", ",", ":", "&a ", "*a", "\\ud800", "\n-"]))
def test_json_like_text_damaged_anywhere_gives_data_or_a_case_error(value, cut, junk, engine):
    text = json.dumps(value)
    read_everything((text[:cut] + junk + text[cut:]).encode("utf-8", "surrogatepass"), engine)
