"""The audit as one self-contained HTML page a safety officer can read, print, sign and file.

One file, no network: the style sheet is inline, there is no script and no image
file, and a Content-Security-Policy meta tag forbids the page from loading anything
(``default-src 'none'``). Colours meet WCAG AA contrast (dark text, at least 4.5:1
on every background) and never carry meaning alone: every coloured cell also says
"over" or "under" in words. Tables do not break across printed pages.
"""

from __future__ import annotations

import html
import time

from .audit import AuditReport
from .coverage import Coverage
from .impact import ImpactReport
from .stats import Proportion, percent

TEXT = "#111111"
MUTED = "#4d4d4d"  # 8.4:1 on white
# (faint, strong) background for each kind of cell; dark text stays above 7:1 on all of them.
SHADES = {"exact": ("#eaf6ec", "#9fd4ab"), "over": ("#fff5d9", "#f5cf6b"), "under": ("#fde4e2", "#f29c95")}

CSS = f"""
:root {{ color: {TEXT}; background: #ffffff; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }}
body {{ max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #cccccc; }}
table {{ border-collapse: collapse; margin: .6rem 0; }} th, td {{ border: 1px solid #b3b3b3; padding: .25rem .5rem; text-align: left; vertical-align: top; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.muted {{ color: {MUTED}; }} code {{ font-size: .85em; word-break: break-all; }}
.bar {{ position: relative; width: 12rem; height: .9rem; background: #f0f0f0; border: 1px solid #8c8c8c; }}
.bar .ci {{ position: absolute; top: 0; bottom: 0; background: #3f6aa5; }}
.bar .point {{ position: absolute; top: -.2rem; bottom: -.2rem; width: 2px; margin-left: -1px; background: {TEXT}; }}
.warning {{ border-left: .35rem solid #b3261e; background: #fde4e2; padding: .4rem .7rem; }}
.ok {{ border-left: .35rem solid #1e7b34; background: #eaf6ec; padding: .4rem .7rem; }}
.grid td {{ text-align: center; min-width: 5.5rem; }}
.sign td {{ width: 18rem; height: 2rem; }}
@media print {{
  :root {{ font-size: 11pt; }} body {{ margin: 0; max-width: none; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  table, .warning, .ok, section > p {{ break-inside: avoid; }} h2 {{ break-after: avoid; }}
}}
"""

FIGURE_NAMES = {
    "appropriate": "Appropriate triage (exact level)",
    "over_triage": "Over-triage (more urgent than expected)",
    "under_triage": "Under-triage (less urgent than expected)",
    "safe": "Safe advice (Gilbert et al. 2020)",
    "cause_recall": "Cause recall (expected causes named)",
}


def e(value) -> str:
    """Escape text for HTML."""
    return html.escape(str(value), quote=True)


def render_html(report: AuditReport | None, coverage: Coverage | None = None, impact: ImpactReport | None = None,
                inputs: list[str] | None = None, version: str = "", generated: str | None = None,
                notices: list[str] | None = None, problems: list[str] | None = None) -> str:
    """The whole page: provenance, figures with intervals, confusion grid, under-triage, coverage, change impact.

    ``notices`` (vignettes left out, the safety pack left out) head the page, before any
    figure, so a signed page can never read as a complete audit of the shipped rules.
    """
    kb = report.knowledge_base if report is not None else impact.new_knowledge_base if impact is not None else None
    generated = generated or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    title = f"Triage audit: {kb.name} {kb.version}" if kb else "Triage audit"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{e(title)}</h1>",
        f'<p class="muted">Generated {e(generated)} by triage {e(version)}. Not a diagnosis tool: this page reports '
        "how the rules triage written vignettes.</p>",
    ]
    if kb is not None:
        parts.append(f"<p>Knowledge base <strong>{e(kb.name)} {e(kb.version)}</strong>, packs {e(', '.join(kb.packs))}"
                     f"<br>sha256 <code>{e(kb.sha256)}</code></p>")
    if inputs:
        parts.append(f"<p>Read from: {e(', '.join(inputs))}</p>")
    parts += [f'<p class="warning"><strong>{e(notice)}</strong></p>' for notice in notices or []]
    if problems:  # the vignettes left out, on the page that is signed, not only on a terminal
        parts.append("<ul>" + "".join(f"<li>{e(problem)}</li>" for problem in problems) + "</ul>")
    parts.append("</header>")
    if report is not None and report.vignettes:
        parts += _figures(report) + _confusion(report) + _under_triaged(report)
    else:
        parts.append("<p>No vignettes (no expected levels)" + (": changes only.</p>" if impact is not None else ".</p>"))
    if coverage is not None:
        parts += _coverage(coverage)
    if impact is not None:
        parts += _impact(impact)
    parts += [
        "<section><h2>Review</h2><table class=\"sign\"><tr><th>Reviewed by</th><td></td></tr>",
        "<tr><th>Role</th><td></td></tr><tr><th>Date</th><td></td></tr><tr><th>Signature</th><td></td></tr></table></section>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _bar(share: Proportion) -> str:
    if share.rate is None:
        return '<span class="muted">n/a</span>'
    low, high, point = share.low * 100, share.high * 100, share.rate * 100
    return (f'<div class="bar" role="img" aria-label="{percent(share.rate)}, 95% interval {percent(share.low)} to {percent(share.high)}">'
            f'<span class="ci" style="left:{low:.1f}%;width:{max(high - low, 0.5):.1f}%"></span>'
            f'<span class="point" style="left:{point:.1f}%"></span></div>')


def _share_cells(share: Proportion) -> str:
    interval = "n/a" if share.rate is None else f"{percent(share.low)} to {percent(share.high)}"
    return (f'<td class="num">{share.count}/{share.total}</td><td class="num">{percent(share.rate)}</td>'
            f'<td class="num">{interval}</td><td>{_bar(share)}</td>')


def _figures(report: AuditReport) -> list[str]:
    serious = report.serious_under_triage
    box = ('<p class="warning"><strong>' + f"{len(serious)} emergency or urgent vignette"
           f"{'s' if len(serious) != 1 else ''} under-triaged.</strong></p>" if serious
           else '<p class="ok">No emergency or urgent vignette is under-triaged.</p>')
    rows = [f"<tr><th>{e(FIGURE_NAMES[k])}</th>{_share_cells(v)}</tr>" for k, v in report.figures.items()]
    odds = (f"{report.over_under_odds:.2f} over-triage errors per under-triage error" if report.over_under_odds is not None
            else "no under-triage errors, so no finite odds" + (f" ({report.over_triage} over-triaged)" if report.over_triage else ""))
    levels = [f"<tr><th>{e(level)}</th>{_share_cells(share)}</tr>" for level, share in report.accuracy_by_level.items()]
    head = ('<thead><tr><th scope="col">Measure</th><th scope="col" class="num">Count</th><th scope="col" class="num">Rate</th>'
            '<th scope="col" class="num">95% interval (Wilson)</th><th scope="col">Interval (0 to 100%)</th></tr></thead>')
    return [
        '<section id="figures"><h2>Figures</h2>', box,
        f"<p>{report.vignettes} vignettes. The bar shows each 95% Wilson interval; the black mark is the observed rate.</p>",
        f"<table>{head}<tbody>{''.join(rows)}</tbody></table>",
        f"<p>Over/under-triage odds (Schmieding et al. 2022): {e(odds)}.</p>",
        f"<p><strong>{e(report.all_correct_means)}.</strong></p>",
        f"<h3>Appropriate triage by expected level</h3><table>{head.replace('Measure', 'Expected level')}<tbody>{''.join(levels)}</tbody></table>",
        "</section>",
    ]


def _shade(kind: str, count: int, largest: int) -> str:
    """A background between the faint and strong shade of ``kind``, by count; white for zero."""
    if not count:
        return "#ffffff"
    faint, strong = SHADES[kind]
    t = 0.35 + 0.65 * count / max(largest, 1)
    mix = [round(int(faint[i:i + 2], 16) * (1 - t) + int(strong[i:i + 2], 16) * t) for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _grid(levels: list[str], counts: dict[str, dict[str, int]], row_label: str, column_label: str,
          words=("over", "under")) -> str:
    largest = max((n for row in counts.values() for n in row.values()), default=0)
    head = "".join(f'<th scope="col">{e(level)}</th>' for level in levels)
    rows = []
    for i, expected in enumerate(levels):
        cells = []
        for j, given in enumerate(levels):
            n = counts[expected][given]
            kind = "exact" if i == j else "over" if j < i else "under"  # columns: most urgent first
            word = "" if i == j or not n else f' <span class="label">{e(words[0] if kind == "over" else words[1])}</span>'
            cells.append(f'<td class="{kind}" style="background:{_shade(kind, n, largest)}">{n}{word}</td>')
        rows.append(f'<tr><th scope="row">{e(expected)}</th>{"".join(cells)}</tr>')
    return (f'<table class="grid"><caption class="muted">rows: {e(row_label)}; columns: {e(column_label)}</caption>'
            f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _confusion(report: AuditReport) -> list[str]:
    return ['<section id="confusion"><h2>Confusion matrix</h2>',
            "<p>Green: the expected level. Amber, marked <em>over</em>: more urgent than expected. "
            "Red, marked <em>under</em>: less urgent than expected (the unsafe error). Darker: more vignettes.</p>",
            _grid(report.levels, report.confusion, "expected level", "level given"), "</section>"]


def _under_triaged(report: AuditReport) -> list[str]:
    parts = [f'<section id="under-triaged"><h2>Under-triaged vignettes ({len(report.under_triaged)})</h2>']
    if not report.under_triaged:
        return parts + ["<p>None.</p></section>"]
    parts.append('<table><thead><tr><th>Vignette</th><th>Expected</th><th>Given</th><th>Rules that fired</th><th>Red flags</th>'
                 '<th>Why this level was expected</th></tr></thead><tbody>')
    for o in report.under_triaged:
        # The vignette author's own words (rationale, source, notes): why the expected level is right.
        notes = "<br>".join(f"<strong>{e(key)}:</strong> {e(text)}" for key, text in o.notes.items()) or "none given"
        parts.append(f"<tr><td>{e(o.id)}<br><span class=\"muted\">{e(o.source)}</span></td><td>{e(o.expected_urgency.value)}</td>"
                     f"<td>{e(o.actual_urgency.value)}</td><td>{e(', '.join(o.fired_rules) or 'none')}</td>"
                     f"<td>{e(', '.join(o.red_flags) or 'none')}</td><td>{notes}</td></tr>")
    return parts + ["</tbody></table></section>"]


def _coverage(result: Coverage) -> list[str]:
    missing = result.raising_without_vignette_at_level
    box = (f'<p class="warning"><strong>{len(result.serious_without_vignette)} emergency or urgent rule(s) with no vignette at '
           f"their level:</strong> {e(', '.join(result.serious_without_vignette))}</p>" if result.serious_without_vignette
           else '<p class="ok">Every emergency and urgent rule has a vignette at its level.</p>')
    def row(r) -> str:
        uncovered = r.id in missing  # highlighted, and said in words
        start = f'<tr style="background:{SHADES["under"][0]}">' if uncovered else "<tr>"
        at_level = f"{r.fired_at_its_level} <strong>none at its level</strong>" if uncovered else (r.fired_at_its_level if r.urgency else "-")
        return (f"{start}<td>{e(r.id)}</td><td>{e(r.pack)}</td><td>{e(r.urgency.value if r.urgency else '-')}</td>"
                f'<td class="num">{r.fired}</td><td class="num">{at_level}</td>'
                f'<td class="num">{r.decisive if r.urgency else "-"}</td></tr>')

    rows = "".join(row(r) for r in result.rules)
    return ['<section id="coverage"><h2>Rule coverage</h2>', box,
            f"<p>{result.fired} of {len(result.rules)} rules fired by {result.cases} cases. "
            f"Never fired ({len(result.never_fired)}): {e(', '.join(result.never_fired) or 'none')}. "
            f"Urgency-raising rules with no vignette at their level ({len(missing)}): {e(', '.join(missing) or 'none')}.</p>",
            '<table><thead><tr><th>Rule</th><th>Pack</th><th>Urgency</th><th class="num">Cases firing it</th>'
            f'<th class="num">Vignettes at its level</th><th class="num">Decisive (it alone sets the level)</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></section>']


def _impact(report: ImpactReport) -> list[str]:
    old, new = report.old_knowledge_base, report.new_knowledge_base
    serious = report.serious_newly_under_triaged
    box = (f'<p class="warning"><strong>Newly under-triaged emergency or urgent vignettes: {e(", ".join(serious))}</strong></p>'
           if serious else '<p class="ok">No emergency or urgent vignette became under-triaged.</p>')
    alerts = [f'<p class="warning"><strong>{e(title)} ({len(ids)}): {e(", ".join(ids))}</strong></p>'
              for title, ids in (("Unsafe advice: newly given to an emergency or urgent case, or withheld before",
                                  report.unsafe_advice),
                                 ("Out of scope beside a warning sign, a cause or an urgency above routine",
                                  report.scope_contradictions)) if ids]
    parts = ['<section id="impact"><h2>Change impact</h2>', box, *alerts,
             f"<p>Old: {e(old.name)} {e(old.version)}, sha256 <code>{e(old.sha256)}</code><br>"
             f"New: {e(new.name)} {e(new.version)}, sha256 <code>{e(new.sha256)}</code></p>",
             f"<p>{report.cases} cases ({report.vignettes} with an expected level): {len(report.changes)} changed, "
             f"{len(report.less_urgent)} less urgent, {len(report.more_urgent)} more urgent. "
             f"Newly under-triaged ({len(report.newly_under_triaged)}): {e(', '.join(report.newly_under_triaged) or 'none')}. "
             f"Newly correct ({len(report.newly_correct)}): {e(', '.join(report.newly_correct) or 'none')}.</p>",
             *([f"<p>Only the new knowledge base can assess {len(report.new_only)} cases (left out of the comparison):</p><ul>"
                + "".join(f"<li>{e(reason)}</li>" for reason in report.new_only) + "</ul>"] if report.new_only else []),
             *_generated(report),
             "<h3>Transitions</h3>",
             "<p>Green: the same level. Amber, marked <em>more urgent</em>, and red, marked <em>less urgent</em>: "
             "the new level against the old.</p>",
             _grid(report.levels, report.transitions, "old level", "new level", ("more urgent", "less urgent")),
             f"<h3>Changed cases ({len(report.changes)})</h3>"]
    if not report.changes:
        return parts + ["<p>None.</p></section>"]
    parts.append("<table><thead><tr><th>Case</th><th>Expected</th><th>Old</th><th>New</th><th>Action, causes, red flags, advice and out of scope</th>"
                 "<th>Rules fired (old / new)</th></tr></thead><tbody>")
    for c in report.changes:
        lower = ' <strong>less urgent</strong>' if c.less_urgent else ""
        detail = "; ".join(f"{name}: {e(_listed(getattr(c.old, name)))} &rarr; {e(_listed(getattr(c.new, name)))}"
                           for name in ("action", "causes", "red_flags", "advice", "out_of_scope")
                           if name in c.changed) or "unchanged"
        parts.append(f"<tr><td>{e(c.id)}</td><td>{e(c.expected_urgency.value if c.expected_urgency else '-')}</td>"
                     f"<td>{e(c.old.urgency.value)}</td><td>{e(c.new.urgency.value)}{lower}</td><td>{detail}</td>"
                     f"<td>{e(', '.join(c.old.fired_rules) or '-')}<br>/ {e(', '.join(c.new.fired_rules) or '-')}</td></tr>")
    return parts + ["</tbody></table></section>"]


def _listed(value) -> str:
    """An action's text as it is; causes or red flags joined by commas; '-' for none."""
    if isinstance(value, bool):  # out of scope
        return "yes" if value else "no"
    return (value if isinstance(value, str) else ", ".join(value)) or "-"


def _generated(report: ImpactReport) -> list[str]:
    """The generated cases (triage.differential) as text lines in a <pre>, as the text report gives them."""
    if report.generated is None:
        return []
    from .differential import render_generated

    warning = "warning" if report.generated.less_urgent else "ok"
    return [f'<h3 id="generated">Generated cases</h3><pre class="{warning}">'
            + e("\n".join(render_generated(report.generated))) + "</pre>"]
