"""The scenarios: figures against the SPEC and the article, the fraud threshold against its formula,
and the files they write (CSV columns, non-empty PNGs)."""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest

from cli.main import main
from greenpoints.rules import POINT
from model.output import CSV_COLUMNS, write_csv, write_plot
from model.params import ParameterError
from model.scenarios import fraud, run_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_article_order_one_is_the_articles_and_checkouts_alone_stay_at_three_sevenths() -> None:
    # 500 skimmed exactly: a 5,000 sale at 10 % (SPEC §2), so the claim after order 1 is met exactly.
    result = run_scenario("article", ["sale=5000", "rate_bps=1000"])
    orders_only = result.traces[0]
    first = orders_only.at_step(1)
    assert (first.reserve, first.supply) == (150 * 10**6, 350 * POINT)
    last = orders_only.at_step(100)
    assert (last.reserve, last.supply) == (15_000 * 10**6, 35_000 * POINT)
    assert round(Fraction(last.price, 10**18), 4) == round(Fraction(3, 7), 4)


def test_article_claims_need_spending_and_the_report_says_so() -> None:
    result = run_scenario("article")
    spending = result.traces[1]
    # The solved spending brings the points down to the claims (3,120 and 12,000), pool untouched.
    at20, at100 = spending.at_step(20), spending.at_step(100)
    assert 3_100 * POINT <= at20.supply <= 3_120 * POINT
    assert 11_950 * POINT <= at100.supply <= 12_000 * POINT
    assert at100.reserve == result.traces[0].at_step(100).reserve
    text = "\n".join(result.report)
    assert "the article claims" in text and "spend" in text and "redemptions" in text
    # Without the mint bound the article's arithmetic needs 1 − 3,120 / 7,000 of the points spent.
    assert "55.4 %" in text


def test_fraud_threshold_equals_the_formula_and_the_bound_removes_the_gain() -> None:
    values = {p.name: p.default for p in fraud.params()}
    share, fee = Fraction(values["pool_share_bps"], 10_000), Fraction(values["fee_bps"], 10_000)
    formula = share / ((1 - share) * (1 - fee))
    assert round(float(formula), 3) == 0.476
    found = fraud.break_even(values, bound=False)
    assert found is not None
    # The search lands on the formula plus the sale's own dilution, fee × poolIn ÷ ((1 − fee) × supply).
    pool_in = Fraction(values["sale"] * values["rate_bps"] * values["pool_share_bps"], 10_000**2 * 10**6)
    supply = Fraction(fraud._pool(values, 10**18, True).supply, POINT)
    expected = formula + fee * pool_in / ((1 - fee) * supply)
    assert abs(Fraction(found, 10**18) - expected) < Fraction(1, 10**6)
    assert fraud.break_even(values, bound=True) is None
    for price in (5 * 10**17, 10**18, 3 * 10**18):
        assert fraud.gain_at(values, price, bound=False).gain > 0
        assert fraud.gain_at(values, price, bound=True).gain <= 0
    text = "\n".join(run_scenario("fraud").report)
    assert "0.476190" in text


def test_fraud_daily_cap_stops_the_fraudster_each_day() -> None:
    values = {p.name: p.default for p in fraud.params()}
    _trace, days = fraud.attack(values, False, "without")
    for day in days:
        assert 0 < day["points"] <= values["daily_cap"]
    # A global cap tighter than the honest traffic stops honest merchants too, and is reported.
    tight = {**values, "global_cap": 2_000 * POINT, "days": 1}
    _trace, days = fraud.attack(tight, True, "tight")
    assert days[0]["honest_refused"] > 0 and days[0]["points"] <= 2_000 * POINT
    assert "refused" in "\n".join(fraud.run(tight, 1).report)


@pytest.mark.parametrize("name", ["article", "fraud"])
def test_scenario_files(name: str, tmp_path: Path) -> None:
    result = run_scenario(name)
    png = write_plot(result, tmp_path / f"{name}.png")
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000
    rows = list(csv.DictReader(write_csv(result, tmp_path / f"{name}.csv").open()))
    assert list(rows[0])[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert any(column.startswith("minted:") for column in rows[0])
    assert {row["run"] for row in rows} == {trace.name for trace in result.traces}
    assert sum(len(trace.rows) for trace in result.traces) == len(rows)


def test_cli_model_writes_its_csv_and_refuses_bad_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "f.csv"  # (the plots are the test above's)
    assert main(["model", "fraud", "--params", "days=1", "--csv", str(table)]) == 0
    assert table.stat().st_size > 0
    assert "Threshold" in capsys.readouterr().out
    for bad in (["fee_bps=2001"], ["pool_share_bps=999"], ["nonsense=1"], ["fee_bps"], ["fee_bps=500", "tax_bps=600"]):
        assert main(["model", "article", "--params", *bad]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("greenpoints: error: "), err
    with pytest.raises(SystemExit) as usage:
        main(["model", "nonsense"])
    assert usage.value.code == 2


def test_unknown_scenario_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError):
        run_scenario("nonsense")
