"""The strict reader behind every file triage reads: what it refuses, and that it names the place."""

from __future__ import annotations

import io
import time

import pytest

import triage
from triage.errors import CaseError
from triage.inputs import case_from_row
from triage.reading import (
    MAX_DEPTH,
    max_input_bytes,
    parse_document,
    parse_json,
    parse_json_line,
    parse_yaml,
    read_bytes,
    read_document,
    set_max_input_bytes,
)
from triage.rows import csv_rows, lines


def refused(parse, text, *args) -> CaseError:
    with pytest.raises(CaseError) as error:
        parse(text, "case.x", *args)
    return error.value


# --------------------------------------------------------------------------- repeated keys


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
def test_a_repeated_key_is_refused_naming_it(parse):
    error = refused(parse, '{"id": "d", "breathless_or_chest_pain": true, "breathless_or_chest_pain": false}')
    assert "field 'breathless_or_chest_pain': given more than once" in str(error)


def test_a_repeated_key_in_a_jsonl_line_is_refused():
    line = b'{"id":"d","breathless_or_chest_pain":true,"breathless_or_chest_pain":false}\n'
    with pytest.raises(CaseError, match="breathless_or_chest_pain': given more than once"):
        parse_json_line(line, "x.jsonl:1")


def test_the_line_of_a_repeated_key_is_named_even_when_other_objects_use_it():
    text = '[{"fever": true},\n {"fever": false},\n {"id": "c",\n  "fever": true, "fever": false}]'
    assert refused(parse_json, text).source == "case.x, line 4"
    yaml_text = "- fever: true\n- fever: false\n- id: c\n  fever: true\n  fever: false\n"
    assert refused(parse_yaml, yaml_text).source == "case.x, line 5"


# --------------------------------------------------------------------------- keys, aliases, numbers, depth


@pytest.mark.parametrize("text, message", [
    ("? [a]\n: 1\n", "a key must be text, not a sequence"),
    ("1: true\n", "key '1' is not text"),
    ("yes: true\n", "key 'yes' is not text"),
    ("a: &x 1\nb: *x\n", "anchors and aliases"),
    ("base: &b {fever: true}\ncase:\n  <<: *b\n", "anchors and aliases"),
])
def test_yaml_keys_that_are_not_text_and_aliases_are_refused(text, message):
    assert message in str(refused(parse_yaml, text))


def test_billion_laughs_is_refused_at_once_in_a_case_file():
    text = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    started = time.perf_counter()
    error = refused(parse_yaml, text)
    assert "anchors and aliases" in str(error) and time.perf_counter() - started < 5


def test_a_knowledge_base_file_may_use_aliases_but_not_explode():
    assert parse_yaml("a: &x [1]\nb: *x\n", "kb.yaml", True) == {"a": [1], "b": [1]}
    text = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9))
    with pytest.raises(CaseError, match="expand to more than"):
        parse_yaml(text, "kb.yaml", True)


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
def test_a_huge_whole_number_is_refused_before_python_would_raise_valueerror(parse):
    error = refused(parse, '{"weeks_pregnant": ' + "9" * 5000 + "}")
    assert "5,000 digits" in str(error)


@pytest.mark.parametrize("parse, text", [
    (parse_json, "[" * 2000 + "]" * 2000),
    (parse_json, '{"a":' * 2000 + "1" + "}" * 2000),
    (parse_yaml, "[" * 2000 + "]" * 2000),
    (parse_yaml, "".join(" " * i + "a:\n" for i in range(200))),
])
def test_deep_nesting_is_refused_before_python_would_raise_recursionerror(parse, text):
    assert "nest" in str(refused(parse, text))  # ours, or libyaml's own limit ("nesting depth")


def test_nesting_within_the_limit_is_read():
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "x") is not None


@pytest.mark.parametrize("text", ['{"id": "\\ud800"}', '{"\\udfff": true}', '"\\ud800"'])
def test_a_lone_surrogate_is_refused(text):
    assert "lone surrogate" in str(refused(parse_json, text))


@pytest.mark.parametrize("text", ['{"pain_severity": NaN}', '{"pain_severity": Infinity}', '{"a": -Infinity}'])
def test_json_constants_that_are_not_numbers_are_refused(text):
    assert "is not a JSON number" in str(refused(parse_json, text))


def test_extra_data_after_the_json_value_is_refused():
    assert "extra data" in str(refused(parse_json, '{"fever": true} {"fever": false}'))


# --------------------------------------------------------------------------- number forms (item 20)


@pytest.mark.parametrize("written", ["0x1E", "0b11110", "0o36", "+30", "3_0", "1:30", "30.0"])
def test_yaml_numbers_other_than_plain_decimal_digits_are_refused_naming_the_field(written):
    case = parse_yaml(f"weeks_pregnant: {written}\n", "c.yaml")
    with pytest.raises(CaseError, match="field 'weeks_pregnant'"):
        triage.assess(case)


def test_yaml_digits_with_a_leading_zero_are_decimal():
    assert parse_yaml("weeks_pregnant: 030\n", "c.yaml") == {"weeks_pregnant": 30}


@pytest.mark.parametrize("cell", ["٣٠", "３０", "3_0", "+30", " 30x", "0x1E"])
def test_csv_numbers_other_than_plain_decimal_digits_are_refused_naming_the_field(kb, cell):
    case = case_from_row({"weeks_pregnant": cell}, kb.question_by_id)
    with pytest.raises(CaseError, match="field 'weeks_pregnant'"):
        triage.assess(case)


def test_csv_plain_digits_and_a_minus_are_numbers(kb):
    assert case_from_row({"weeks_pregnant": "30", "pain_severity": "-1"}, kb.question_by_id) == {
        "weeks_pregnant": 30, "pain_severity": -1}


# --------------------------------------------------------------------------- files and sizes


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000 + b"{}")
    previous = max_input_bytes()
    set_max_input_bytes(1000)
    try:
        with pytest.raises(CaseError, match="larger than the input size limit of 1,000 bytes"):
            read_bytes(path)
    finally:
        set_max_input_bytes(previous)


def test_a_device_that_never_ends_is_refused():
    with pytest.raises(CaseError, match="larger than the input size limit"):
        read_bytes("/dev/zero", 4096)


def test_an_endless_line_is_reported_and_the_stream_abandoned():
    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    [(number, problem)] = list(lines(io.BufferedReader(Endless()), 100))
    assert number == 1 and "the rest of the input was not read" in problem


def test_an_over_long_line_is_skipped_to_its_end_and_the_next_is_read():
    data = io.BytesIO(b"x" * 500 + b"\n{}\n")
    found = list(lines(data, 100))
    assert isinstance(found[0][1], str) and found[1] == (2, b"{}\n")


@pytest.mark.parametrize("content, message", [
    ("\ufeff{}".encode("utf-16"), "UTF-16"),
    (b'{"id": "\xe9"}', "not UTF-8 text (line 1, byte 0xe9)"),
])
def test_text_that_is_not_utf8_is_refused(tmp_path, content, message):
    path = tmp_path / "case.json"
    path.write_bytes(content)
    with pytest.raises(CaseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_document(path)


def test_a_directory_or_missing_file_is_a_case_error(tmp_path):
    with pytest.raises(CaseError, match="is a directory"):
        read_document(tmp_path)
    with pytest.raises(CaseError, match="file not found"):
        read_document(tmp_path / "missing.json")


def test_a_document_without_suffix_is_json_when_it_looks_like_json():
    assert parse_document('{"fever": true}', "x") == {"fever": True}
    assert parse_document("fever: true", "x") == {"fever": True}


# --------------------------------------------------------------------------- CSV rows


def rows(data: bytes):
    return list(csv_rows(io.BytesIO(data)))


def test_a_row_that_is_not_utf8_is_reported_and_the_next_rows_read():
    found = rows(b"id,fever\na,yes\nb\xe9,no\nc,no\n")
    assert [n for n, _ in found] == [1, 2, 3, 4]
    assert "not UTF-8" in found[2][1] and found[3][1] == ["c", "no"]


def test_an_unclosed_quote_does_not_swallow_the_rows_after_it():
    found = rows(b'id,fever\na,yes\n"b,no\nc,no\nd,yes\n')
    assert found[2] == (3, "not valid CSV: a quoted cell is not closed on this row")
    assert found[3:] == [(4, ["c", "no"]), (5, ["d", "yes"])]


def test_a_quoted_cell_may_span_lines():
    assert rows(b'id,fever\n"a\nb",yes\nc,no\n')[1:] == [(2, ["a\nb", "yes"]), (4, ["c", "no"])]


def test_a_cell_over_the_csv_modules_own_limit_is_read_within_ours():
    big = b"x" * 200_000
    assert rows(b"id,fever\n" + big + b",yes\n")[1] == (2, [big.decode(), "yes"])


class Trickle(io.RawIOBase):
    """A stream that gives ``size`` bytes a read, counting its reads (a slow pipe)."""

    def __init__(self, data: bytes, size: int):
        self.data, self.size, self.reads = data, size, 0

    def readable(self):
        return True

    def read1(self, n=-1):
        self.reads += 1
        chunk, self.data = self.data[:self.size], self.data[self.size:]
        return chunk


@pytest.mark.parametrize("size", [1, 2, 7, 65536])  # a CR at the end of one read, its LF (or not) in the next
def test_old_mac_cr_line_ends_are_line_ends_however_the_bytes_arrive(size):
    assert list(csv_rows(Trickle(b'id,fever\ra,yes\r"b\rc",no\r', size))) == [
        (1, ["id", "fever"]), (2, ["a", "yes"]), (3, ["b\nc", "no"])]
    assert list(csv_rows(Trickle(b"id,fever\r\na,yes\r\n", size))) == [(1, ["id", "fever"]), (2, ["a", "yes"])]
    assert [line for _, line in lines(Trickle(b'{"a": 1}\r{"b": 2}\r', size), 100)] == [b'{"a": 1}\n', b'{"b": 2}\n']


def test_a_cr_inside_a_cell_of_a_file_with_lf_line_ends_is_kept():
    assert rows(b'id,fever\n"a\rb",yes\n') == [(1, ["id", "fever"]), (2, ["a\rb", "yes"])]


def test_the_first_line_of_a_pipe_is_read_without_waiting_for_more():
    pipe = Trickle(b'{"a": 1}\n{"b": 2}\n', 9)
    assert next(lines(pipe, 100)) == (1, b'{"a": 1}\n') and pipe.reads == 1


@pytest.mark.parametrize("text", ["fever: !!null true\n", "fever: !!bool no\n", "weeks_pregnant: !!str 30\n",
                                  "!!map {fever: true}\n"])
def test_a_yaml_tag_is_refused_because_it_changes_what_a_value_means(text):
    # `!!null true` read a warning sign answered yes as unknown (hostile trial, issue 10).
    with pytest.raises(CaseError, match="YAML tags"):
        parse_yaml(text, "case.yaml")


def test_a_repeated_key_is_its_own_case_error_naming_the_key():
    # The server tells a key given twice (422) from text that is not JSON (400) by this type.
    from triage.errors import RepeatedKeyError

    with pytest.raises(RepeatedKeyError) as raised:
        parse_json('{"a": {"leg_cramps": true,\n "leg_cramps": false}}', "case.json")
    assert raised.value.key == "leg_cramps" and raised.value.source == "case.json, line 2"
    with pytest.raises(CaseError) as other:
        parse_json('{"leg_cramps": tru}', "case.json")
    assert not isinstance(other.value, RepeatedKeyError)
    with pytest.raises(RepeatedKeyError) as in_yaml:  # the same type from every reader
        parse_yaml("leg_cramps: true\nleg_cramps: false\n", "case.yaml")
    assert in_yaml.value.key == "leg_cramps" and in_yaml.value.source == "case.yaml, line 2"


def test_a_syntax_error_on_the_line_after_the_text_names_that_line():
    with pytest.raises(CaseError, match=r"line 2, column 1"):
        parse_json('{"weeks_pregnant": 31,\n', "case.json")


def test_a_list_is_read_again_item_by_item_only_where_the_strict_reader_refuses_an_item():
    from triage.list_items import RefusedItem, parse_cases

    items = parse_cases('[{"a": 1}, {"b": 1, "b": 2}, {"c": NaN}]', "x.json", ".json")
    assert items[0] == {"a": 1} and all(isinstance(item, RefusedItem) for item in items[1:])
    # Nothing is read more leniently: a single case, an alias, or text that is not one list stays refused whole.
    for text, suffix in (('{"a": 1, "a": 2}', ".json"), ("- &x {a: 1}\n- {b: 1, b: 2}\n", ".yaml"),
                         ('[{"a": 1, "a": 2}] extra', ".json"), ('[{"a": 1, "a": 2}', ".json"),
                         ('[{"a": "x}, {"b": true}]', ".json"), ('[{"a": tru}, {"b": 1}]', ".json")):
        with pytest.raises(CaseError):
            parse_cases(text, "x" + suffix, suffix)
