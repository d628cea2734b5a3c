"""Proportions with 95% Wilson intervals, and the over/under-triage odds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.stats import all_correct_means, over_under_odds, proportion, wilson


def test_wilson_matches_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert [round(x, 4) for x in wilson(81, 263)] == [0.2553, 0.3662]
    assert [round(x, 4) for x in wilson(15, 148)] == [0.0624, 0.1605]
    # At the ends the interval is not degenerate: 0/10 still allows up to 27.8%.
    assert wilson(0, 10)[0] == 0.0 and round(wilson(0, 10)[1], 4) == 0.2775


def test_all_correct_on_75_vignettes_means_at_least_95_percent():
    share = proportion(75, 75)
    assert share.rate == 1.0 and share.high == 1.0 and 0.95 < share.low < 0.952
    assert "at least 95.1%" in all_correct_means(75) and "not certainty" in all_correct_means(75)
    assert share.describe() == "75/75  100.0% (95% CI 95.1-100.0%)"


def test_an_empty_proportion_has_no_figure():
    assert proportion(0, 0).rate is None and proportion(0, 0).describe() == "0/0  n/a"


def test_odds_of_over_to_under_triage():
    assert over_under_odds(6, 3) == 2.0 and over_under_odds(1, 4) == 0.25
    assert over_under_odds(5, 0) is None  # unbounded: the counts are reported instead


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_holds_the_rate_and_stays_in_range(pair):
    count, total = pair
    low, high = wilson(count, total)
    assert 0.0 <= low <= count / total <= high <= 1.0
    assert high - low > 0


def test_the_sample_size_sentence_does_not_claim_100_percent_when_the_audit_was_not():
    # new-user trial: 0 of 2 correct still printed "100% on 2 vignettes means ..."
    assert all_correct_means(2, 0).startswith("even 100% on 2 vignettes would mean") and "34.2%" in all_correct_means(2, 0)
    assert all_correct_means(2, 2) == all_correct_means(2)


@pytest.mark.parametrize("total", [1, 2, 3, 7, 70, 120])
def test_what_100_percent_means_uses_the_lower_bound_the_figures_show(total):
    # New-user trial 4: "95% CI 20.6-100.0%" above "at least 20.7%" for one vignette.
    from triage.stats import all_correct_means, percent, proportion

    assert f"at least {percent(proportion(total, total).low)} " in all_correct_means(total)
    assert ("1 vignettes" in all_correct_means(total)) is False
