"""What a developer embedding triage meets: types, help, urgency order, scripts without a main guard."""

from __future__ import annotations

import doctest
import subprocess
import sys
import textwrap
import typing
import zipfile

import pytest

import triage
from triage import Urgency
from conftest import REPO

# ---------------------------------------------------------------------------
# Urgency levels order by urgency, never alphabetically


def test_levels_order_by_urgency():
    assert Urgency.SELF_CARE < Urgency.ROUTINE < Urgency.WITHIN_24H < Urgency.URGENT < Urgency.EMERGENCY
    assert Urgency.URGENT <= Urgency.URGENT >= Urgency.URGENT and not Urgency.URGENT > Urgency.URGENT
    assert max([Urgency.EMERGENCY, Urgency.SELF_CARE]) is Urgency.EMERGENCY  # alphabetically: self_care
    assert min([Urgency.ROUTINE, Urgency.URGENT, Urgency.WITHIN_24H]) is Urgency.ROUTINE  # alphabetically: routine too
    assert sorted(Urgency) == list(reversed(Urgency))  # least urgent first, as sorted() does for numbers
    assert sorted(Urgency, reverse=True) == list(Urgency)
    for a in Urgency:
        for b in Urgency:
            assert (a < b) == (a.rank < b.rank) and (a >= b) == (a.rank >= b.rank), (a, b)


def test_levels_still_equal_their_text_but_refuse_to_order_against_it():
    assert Urgency.ROUTINE == "routine" and {"routine": 1}[Urgency.ROUTINE] == 1
    for compare in (lambda: Urgency.EMERGENCY < "self_care", lambda: "self_care" > Urgency.EMERGENCY,
                    lambda: sorted([Urgency.ROUTINE, "urgent"]), lambda: Urgency.ROUTINE >= 1):
        with pytest.raises(TypeError, match="only against another Urgency"):
            compare()


def test_most_urgent_uses_the_order():
    assert Urgency.most_urgent([Urgency.ROUTINE, Urgency.EMERGENCY, Urgency.SELF_CARE]) is Urgency.EMERGENCY
    assert Urgency.most_urgent(iter([Urgency.WITHIN_24H, Urgency.ROUTINE])) is Urgency.WITHIN_24H
    assert Urgency.most_urgent([]) is Urgency.SELF_CARE


# ---------------------------------------------------------------------------
# Help, types


@pytest.mark.parametrize("obj", [triage.assess, triage.Urgency, triage.Engine], ids=lambda o: o.__name__)
def test_the_examples_in_the_help_run_as_shown(obj):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = finder.find(obj, globs={"triage": triage, "Urgency": Urgency, "Engine": triage.Engine})
    assert tests and tests[0].examples, "no example in the help"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


def test_assess_many_is_typed_with_what_it_yields():
    from triage import parallel

    hints = typing.get_type_hints(parallel.assess_many)
    assert hints["return"] != typing.Iterator[typing.Any]
    overloads = [typing.get_type_hints(f)["return"] for f in typing.get_overloads(parallel.assess_many)] \
        if hasattr(typing, "get_overloads") else []
    if overloads:  # Python 3.11+ can list them
        assert typing.Iterator[triage.Assessment] in overloads
        assert typing.Iterator[triage.Assessment | triage.CaseError] in overloads


def test_the_package_says_it_is_typed_and_the_wheel_ships_the_marker(tmp_path):
    assert (REPO / "triage" / "py.typed").is_file()
    # hatchling, the build backend, comes with the test extra: no download here.
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("triage-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "triage/py.typed" in names and "triage/rules/kb.yaml" in names


# ---------------------------------------------------------------------------
# A script without `if __name__ == "__main__":`

SCRIPT = """\
import multiprocessing
import warnings

import triage

warnings.simplefilter("default")
cases = [{{"leg_cramps": True, "weeks_pregnant": week % 43}} for week in range(600)]  # several chunks
{call}
"""
CALL = """\
seen = 0
children = 0
for result in triage.assess_many(cases, workers=2):
    seen += 1
    children = max(children, len(multiprocessing.active_children()))
print(seen, "assessed", children, "workers")
"""


def run_script(tmp_path, call: str) -> subprocess.CompletedProcess:
    script = tmp_path / "embed_many.py"
    script.write_text(SCRIPT.format(call=call))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_script_without_a_main_guard_is_assessed_in_process_with_a_warning_naming_the_line(tmp_path):
    result = run_script(tmp_path, CALL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["600", "assessed", "0", "workers"]
    line = SCRIPT.format(call=CALL).splitlines().index("for result in triage.assess_many(cases, workers=2):") + 1
    assert f"embed_many.py:{line}: RuntimeWarning" in result.stderr
    assert "if __name__ == \"__main__\":" in result.stderr and "assessed in this process" in result.stderr
    assert "bootstrapping" not in result.stderr and "Traceback" not in result.stderr


def test_a_script_with_a_main_guard_uses_the_worker_processes(tmp_path):
    guarded = "def main():\n" + textwrap.indent(CALL, "    ") + "\n\nif __name__ == \"__main__\":\n    main()\n"
    result = run_script(tmp_path, guarded)
    assert result.returncode == 0, result.stderr
    seen, _, children, _ = result.stdout.split()
    assert seen == "600" and int(children) >= 2
    assert "RuntimeWarning" not in result.stderr


def test_a_guard_written_the_other_way_round_counts(tmp_path):
    guarded = "if '__main__' == __name__:\n" + textwrap.indent(CALL, "    ")
    result = run_script(tmp_path, guarded)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[2]) >= 2 and "RuntimeWarning" not in result.stderr
