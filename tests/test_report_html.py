"""triage audit --html: one self-contained page, checked as text and in a real browser (Debian's chromium)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.report_html import SHADES, TEXT
from conftest import EXAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
WINDOW = (1200, 1800)

# The authors' set, every vignette at its level: the lowered rule's effect is exactly its own.
AUTHORS = [str(p) for p in sorted((EXAMPLES / "vignettes").glob("*.yaml"))]


def lower_dvt(rules: Path) -> None:
    """Make the copy's safety_dvt rule ask for within_24h instead of urgent."""
    path = rules / "safety" / "clots.yaml"
    text = path.read_text()
    marker = "    then:\n      urgency: urgent\n      causes: [dvt]"
    assert marker in text
    path.write_text(text.replace(marker, "    then:\n      urgency: within_24h\n      causes: [dvt]"))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The HTML report of the shipped vignettes, run on a knowledge base whose DVT rule was lowered."""
    from triage.knowledge import default_path

    root = tmp_path_factory.mktemp("html")
    rules = root / "rules"
    shutil.copytree(default_path(), rules)
    lower_dvt(rules)
    page = root / "report.html"
    result = CliRunner().invoke(main, ["--rules", str(rules), "audit", *AUTHORS, "--format", "json",
                                                       "--against", str(default_path()), "--coverage", "--html", str(page)])
    assert result.exit_code == 1, result.output  # the lowered rule under-triages urgent vignettes
    # The figures as the JSON output gives them, to find in the rendered page.
    return SimpleNamespace(path=page, figures=json.loads(result.stdout)["figures"])


def test_the_page_is_self_contained_and_forbids_loading_anything(report):
    page = report.path.read_text()
    assert not re.search(r"https?://", page), "the page must reference no http(s) URL"
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_the_page_holds_figures_intervals_matrix_coverage_and_impact(report):
    page = report.path.read_text()
    assert "Appropriate triage (exact level)" in page and "95% interval (Wilson)" in page
    assert re.search(r"\d+\.\d% to \d+\.\d%", page)
    assert 'id="confusion"' in page
    assert re.search(r'class="under" style="background:#[0-9a-f]{6}">5 <span class="label">under</span>', page)  # urgent given within_24h
    assert 'id="coverage"' in page and "safety_dvt" in page
    assert 'id="impact"' in page and "Newly under-triaged emergency or urgent vignettes" in page
    assert "u02-one-leg-swollen-20w" in page and "safety_dvt" in page


def test_the_page_is_written_atomically(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("previous report")
    target.chmod(0o444)  # a read-only report is refused, and left as it was
    result = CliRunner().invoke(main, ["audit", *AUTHORS, "--html", str(target)])
    assert result.exit_code == 3 and "read-only" in result.output  # 3: an output file cannot be written
    assert target.read_text() == "previous report"
    target.chmod(0o644)
    assert CliRunner().invoke(main, ["audit", *AUTHORS, "--html", str(target)]).exit_code == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert 'id="coverage"' in target.read_text()  # the page always shows coverage, even without --coverage
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_background_in_the_page_meets_wcag_aa_contrast_with_the_text(report):
    page = report.path.read_text()
    rules = dict(re.findall(r"([^{}]+)\{([^{}]*)\}", page.split("<style>")[1].split("</style>")[0]))
    css = {selector.strip(): body for selector, body in rules.items()}
    # Backgrounds behind text: the style sheet's (but the interval bars, which hold none) and every grid cell's.
    behind_text = {re.search(r"background:\s*(#[0-9a-f]{6})", body).group(1)
                   for selector, body in css.items() if "background:" in body and ".bar" not in selector}
    behind_text |= set(re.findall(r'style="background:(#[0-9a-f]{6})"', page)) | {c for pair in SHADES.values() for c in pair}
    assert len(behind_text) > 5
    for colour in behind_text:
        assert contrast(TEXT, colour) >= 4.5, colour  # WCAG 2 AA, normal text
    for colour in re.findall(r"\bcolor:\s*(#[0-9a-f]{6})", page):
        assert contrast(colour, "#ffffff") >= 4.5, colour
    # The interval drawn on its bar: 3:1 for graphics (WCAG 1.4.11).
    bar = re.search(r"background:\s*(#[0-9a-f]{6})", css[".bar"]).group(1)
    interval = re.search(r"background:\s*(#[0-9a-f]{6})", css[".bar .ci"]).group(1)
    assert contrast(bar, interval) >= 3


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
               "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-extensions",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={WINDOW[0]},{WINDOW[1]}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


@needs_chromium
def test_chromium_renders_the_figures_and_intervals(report, tmp_path):
    dom = chromium("--dump-dom", report.path.as_uri(), tmp=tmp_path).stdout
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "Figures" in text and "Confusion matrix" in text and "Rule coverage" in text and "Change impact" in text
    words = " ".join(text.split())
    for name, label in (("appropriate", "Appropriate triage (exact level)"), ("under_triage", "Under-triage (less urgent than expected)")):
        f = report.figures[name]
        shown = f"{label} {f['count']}/{f['total']} {f['rate'] * 100:.1f}% {f['low'] * 100:.1f}% to {f['high'] * 100:.1f}%"
        assert shown in words
    assert report.figures["under_triage"]["count"] == 5


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def png_has_colour(path: Path, rgb: tuple[int, int, int]) -> bool:
    """Whether any pixel of an 8-bit RGB(A) PNG is exactly ``rgb`` (enough to find a filled cell)."""
    data = path.read_bytes()
    width, height = png_size(path)
    depth, colour_type = data[24], data[25]
    assert depth == 8 and colour_type in (2, 6)
    chunks, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    step = 3 if colour_type == 2 else 4
    stride = width * step + 1
    previous = bytearray(stride - 1)
    for y in range(height):
        kind, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for x in range(len(line)):
            left = line[x - step] if x >= step else 0
            up, corner = previous[x], previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        if any(tuple(line[i:i + 3]) == rgb for i in range(0, len(line), step)):
            return True
        previous = line
    return False


@needs_chromium
def test_a_screenshot_at_a_fixed_size_shows_the_coloured_grid(report, tmp_path):
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", report.path.as_uri(), tmp=tmp_path)
    assert png_size(shot) == WINDOW
    page = report.path.read_text()
    # The under-triage cell of the confusion matrix is drawn in its red shade.
    cell = re.search(r'class="under" style="background:(#[0-9a-f]{6})">5 ', page).group(1)
    assert png_has_colour(shot, tuple(int(cell[i:i + 2], 16) for i in (1, 3, 5)))


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked for (the browser's own background requests have no origin)."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = [event.get("params", {}) for event in log["events"] if event["type"] == start]
    return [r["url"] for r in requests
            if r.get("url") and r.get("initiator") != "not an origin" and not r["url"].startswith(("file:", "data:"))]


@needs_chromium
def test_the_page_makes_no_network_request_in_chromium(report, tmp_path):
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://example.invalid/a.png"><p>control</p>')
    chromium(f"--log-net-log={tmp_path / 'control.json'}", "--dump-dom", control.as_uri(), tmp=tmp_path)
    assert page_requests(tmp_path / "control.json") == ["http://example.invalid/a.png"]  # the check can see a request
    chromium(f"--log-net-log={tmp_path / 'report.json'}", "--dump-dom", report.path.as_uri(), tmp=tmp_path)
    assert page_requests(tmp_path / "report.json") == []


def test_a_report_into_a_missing_directory_is_a_usage_error_before_any_work(tmp_path):
    result = CliRunner().invoke(main, ["audit", str(EXAMPLES / "vignettes"), "--html", str(tmp_path / "no" / "r.html")])
    assert result.exit_code == 2 and "does not exist" in result.output and "Vignettes:" not in result.output


@needs_chromium
def test_the_page_prints_to_a_pdf_in_chromium(report, tmp_path):
    pdf = tmp_path / "report.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.path.as_uri(), tmp=tmp_path)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2  # the long report is laid out on several pages
    assert "@media print" in report.path.read_text()


def test_the_under_triaged_table_shows_why_the_vignette_expected_its_level(tmp_path):
    # The vignette author's rationale sits beside the level given, so a reviewer sees both at once.
    vignettes = tmp_path / "v.yaml"
    vignettes.write_text(
        "- id: night-cramps-said-urgent\n"
        "  expected_urgency: urgent\n"
        "  rationale: <b>a reviewer</b> judged these cramps urgent\n"
        "  case: {weeks_pregnant: 30, leg_cramps: true, night_cramps: true}\n")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["audit", str(vignettes), "--html", str(page)])
    assert result.exit_code == 1, result.output  # an urgent vignette under-triaged
    table = page.read_text().split('id="under-triaged"')[1].split("</section>")[0]
    row = table.split("night-cramps-said-urgent")[1].split("</tr>")[0]
    assert "Why this level was expected" in table
    assert "<strong>rationale:</strong> &lt;b&gt;a reviewer&lt;/b&gt; judged these cramps urgent" in row


def test_the_page_shows_the_generated_cases_now_less_urgent(report):
    # The lowered DVT rule sends generated urgent cases to within_24h (triage.differential).
    page = report.path.read_text()
    assert 'id="generated"' in page and re.search(r"Generated cases: 5000 \(seed 0\), 5000 compared: [1-9]\d* less urgent", page)
    assert "urgent -&gt; within_24h" in page and "LESS URGENT" in page
