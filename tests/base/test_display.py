"""Notebook display: short reprs and escaped HTML tables."""

from __future__ import annotations

from superpose.base.display import claims_html, fmt, html_table
from superpose.experiments import Claim, ExperimentResult


def test_fmt_cuts_long_values():
    assert fmt(1 / 3) == "0.3333"
    assert fmt(list(range(20))) == "[0, 1, 2, 3, 4, 5, 6, 7, …]"
    assert fmt({"a": [0.5, 2]}) == "{a: [0.5, 2]}"


def test_tables_escape_and_claims_show_their_verdicts():
    assert "&lt;b&gt;" in html_table(["x"], [["<b>"]])
    held = Claim("a", "s", 0.1, "< 1", True)
    failed = Claim("b", "s", [1.0, 2.0], "< 1", False)
    page = claims_html([held, failed])
    assert "1 of 2 claims hold" in page and page.count("does not hold") == 1
    assert repr(failed) == "Claim(b: does NOT hold; measured [1, 2], expected < 1)"
    text = repr(ExperimentResult([held, failed]))
    assert text.startswith("ExperimentResult: 1 of 2 claims hold") and "Claim(a: holds" in text
