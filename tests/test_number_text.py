"""Text that only looks like a whole number, on every path where text becomes a number.

``int()`` and ``str.isdigit()`` each half-read some of these (``--5`` passes
``lstrip("-").isdigit()`` and then fails ``int()``; ``int()`` reads ``+5``, ``٣`` and
`` 5 ``): the hostile trial found a traceback at the terminal's number prompt. Every
path must refuse them, naming the field and what is allowed, or read the plain digits.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from click.testing import CliRunner

import triage
from triage.cli import main

NUMBER_LIKE = ["--5", "-", "+5", "٣", "5.0", "1e3", "0x1f", "5_0", "- 5"]


@pytest.mark.parametrize("text", NUMBER_LIKE)
def test_a_typed_reply_is_an_answer_error_saying_what_is_allowed(text):
    with pytest.raises(triage.AnswerError, match=r"Please answer a whole number from 0 to 42"):
        triage.Questionnaire().interpret("weeks_pregnant", text)


def test_spaces_round_plain_digits_are_only_spaces():
    assert triage.Questionnaire().interpret("weeks_pregnant", " 5 ").value == 5


def test_csv_cells_that_only_look_like_numbers_are_refused_naming_the_field(tmp_path):
    rows = "".join(f"c{n},{text}\n" for n, text in enumerate([*NUMBER_LIKE, " 5 "]))
    (tmp_path / "cases.csv").write_text("id,weeks_pregnant\n" + rows, encoding="utf-8")
    result = CliRunner().invoke(main, ["batch", "-q", str(tmp_path / "cases.csv")])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(NUMBER_LIKE) + 1 and result.exit_code == 1
    for record, text in zip(records, NUMBER_LIKE, strict=False):
        assert record["error"] == f"field 'weeks_pregnant': {text!r} is not a valid answer; expected a whole number from 0 to 42"
    assert records[-1]["error"] is None  # a cell is stripped, as a typed reply is


def _post(path: str, body: bytes) -> httpx.Response:
    from triage.serve import ServeConfig, create_app

    async def call():
        transport = httpx.ASGITransport(app=create_app(ServeConfig()))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.post(path, content=body, headers={"content-type": "application/json"})
    return asyncio.run(call())


@pytest.mark.parametrize("value", [json.dumps(t) for t in ["--5", "+5", "5", "٣"]] + ["5.0", "1e3", "-0.0"])
def test_the_server_refuses_a_number_as_text_or_with_a_fraction_naming_the_field(value):
    for path, body in (("/assess", f'{{"weeks_pregnant": {value}}}'),
                       ("/interview", f'{{"answers": {{"weeks_pregnant": {value}}}}}')):
        response = _post(path, body.encode())
        assert response.status_code == 422, (path, response.text)
        assert any(p["field"] == "weeks_pregnant" and "whole number from 0 to 42" in p["message"]
                   for p in response.json()["problems"]), (path, response.text)
