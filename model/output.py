"""A scenario's result as a readable report, a CSV file (exact decimals) and a PNG of its panels."""

from __future__ import annotations

import csv
from pathlib import Path

from greenpoints.units import POINT_DECIMALS, PRICE_DECIMALS, format_units
from model.params import ASSET_DECIMALS
from model.result import ScenarioResult

CSV_COLUMNS = ("run", "step", "day", "action", "reserve", "supply", "price", "tax_accrued")


def report_text(result: ScenarioResult) -> str:
    lines = [result.title, "=" * len(result.title), "", "parameters: " + ", ".join(result.params), ""]
    return "\n".join([*lines, *result.report]) + "\n"


def csv_header(result: ScenarioResult) -> list[str]:
    labels: list[str] = []
    for trace in result.traces:
        labels += [label for label in trace.merchants.values() if label not in labels]
    return [*CSV_COLUMNS, *(f"minted:{label}" for label in labels)]


def write_csv(result: ScenarioResult, path: Path) -> Path:
    """One row per recorded step of every run; amounts as exact decimal strings."""
    header = csv_header(result)
    minted_columns = header[len(CSV_COLUMNS) :]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for trace in result.traces:
            labels = list(trace.merchants.values())
            for row in trace.rows:
                minted = dict(zip(labels, row.minted, strict=True))
                writer.writerow(
                    [
                        trace.name,
                        row.step,
                        row.day,
                        row.action,
                        format_units(row.reserve, ASSET_DECIMALS),
                        format_units(row.supply, POINT_DECIMALS),
                        format_units(row.price, PRICE_DECIMALS),
                        format_units(row.tax_accrued, ASSET_DECIMALS),
                        *(
                            format_units(minted.get(c.removeprefix("minted:"), 0), POINT_DECIMALS)
                            for c in minted_columns
                        ),
                    ]
                )
    return path


def write_plot(result: ScenarioResult, path: Path) -> Path:
    """The scenario's panels in one PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = result.panels
    columns = 2
    rows = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(13, 4.2 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        for line in panel.lines:
            # Floats only here, to draw: the figures themselves stay integers.
            xs = [x / line.x_divisor for x in line.xs]
            ys = [y / line.y_divisor for y in line.ys]
            ax.plot(xs, ys, label=line.label, linewidth=1.4)
        for label, x, divisor in panel.vlines:
            ax.axvline(x / divisor, color="grey", linestyle="--", linewidth=1, label=label)
        if panel.hline_at_zero:
            ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(panel.title)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")  # "best" would search every point: slow
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    figure.suptitle(result.title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
