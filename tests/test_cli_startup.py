"""Start-up: listing the commands loads neither pydantic nor experta (speed is measured by the benchmark)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_and_triage_loads_no_heavy_library():
    code = "import sys, triage, triage.cli; print(sorted(m for m in ('pydantic', 'experta', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_still_resolve_on_first_use():
    code = "import triage; print(triage.Urgency.URGENT.value, triage.assess_many.__module__, triage.__version__ != '')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["urgent", "triage.parallel", "True"]
