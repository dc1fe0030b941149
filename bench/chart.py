"""Draw the benchmark medians as bar charts, one panel per workload.

Usage: ``bench/.venv-peers/bin/python bench/chart.py RESULTS.json OUT.png``. It runs in
the peers' virtual environment, where the harness installs matplotlib, so the SDK's
environment never needs it.
"""

from __future__ import annotations

import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OURS_COLOR = "#2a6f97"
OTHER_COLOR = "#adb5bd"


def main() -> None:
    """Read the results JSON and write the PNG."""
    source, target = sys.argv[1], sys.argv[2]
    with open(source) as handle:
        workloads = [w for w in json.load(handle)["workloads"] if w["rows"]]
    columns = 2
    rows = math.ceil(len(workloads) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(13, 2.3 * rows), squeeze=False)
    for axis, workload in zip(axes.flat, workloads, strict=False):
        labels = [row["label"] for row in workload["rows"]]
        values = [row["median"] for row in workload["rows"]]
        colors = [OURS_COLOR if row["ours"] else OTHER_COLOR for row in workload["rows"]]
        positions = range(len(values))
        axis.barh(positions, values, color=colors)
        axis.set_yticks(list(positions), labels, fontsize=8)
        axis.invert_yaxis()
        axis.set_title(f"{workload['name']} ({workload['unit']})", fontsize=10)
        axis.tick_params(axis="x", labelsize=8)
        for position, value in zip(positions, values, strict=True):
            axis.text(
                value,
                position,
                f" {value:,.0f}" if value >= 100 else f" {value:.2f}",
                va="center",
                fontsize=7,
            )
        axis.set_xlim(0, max(values) * 1.25)
    for axis in list(axes.flat)[len(workloads) :]:
        axis.set_visible(False)
    figure.suptitle("Medians per workload: ours in blue (memory panels: lower is better)")
    figure.tight_layout()
    figure.savefig(target, dpi=90)


if __name__ == "__main__":
    main()
