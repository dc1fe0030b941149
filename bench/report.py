"""Medians, ratios and targets, printed as a table and written to docs/benchmarks.md."""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.environment import BENCH_DIR, REPO_ROOT
from bench.plan import TARGETS, Target, Workload

DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
CHART_PATH = REPO_ROOT / "docs" / "benchmarks.png"
NOTES_PATH = BENCH_DIR / "notes.md"
# The reasons behind each missed target, written by hand after a run.
GAPS_PATH = BENCH_DIR / "gaps.md"


@dataclass(frozen=True)
class Row:
    """One subject's results on one workload."""

    workload: str
    key: str
    label: str
    unit: str
    median: float
    low: float
    high: float
    rounds: int


@dataclass(frozen=True)
class Summary:
    """Every row, grouped by workload in plan order, with the workload descriptions."""

    workloads: list[Workload]
    rows: dict[str, list[Row]]

    def median(self, workload: str, key: str) -> float | None:
        """Return a subject's median on a workload, or None when it was not run."""
        for row in self.rows.get(workload, []):
            if row.key == key:
                return row.median
        return None


def summarize(workloads: list[Workload], results: dict[str, dict[str, list[float]]]) -> Summary:
    """Reduce each subject's values over the rounds to median, minimum and maximum."""
    rows: dict[str, list[Row]] = {}
    for workload in workloads:
        for subject in workload.subjects:
            values = results.get(workload.name, {}).get(subject.key, [])
            if not values:
                continue
            rows.setdefault(workload.name, []).append(
                Row(
                    workload.name,
                    subject.key,
                    subject.label,
                    workload.unit,
                    statistics.median(values),
                    min(values),
                    max(values),
                    len(values),
                )
            )
    return Summary(workloads, rows)


def _format(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def ratios(summary: Summary, workload: Workload, row: Row) -> str:
    """Return "1.23x floor, 4.56x npm" for one of our rows: our rate over each other one.

    For memory workloads, where lower is better, no ratio is given.
    """
    if not row.key.startswith("ours") or not workload.higher_is_better:
        return ""
    parts = []
    for other in summary.rows[workload.name]:
        if other.key.startswith("ours") or other.median <= 0:
            continue
        parts.append(f"{row.median / other.median:.2f}x {other.key}")
    return ", ".join(parts)


def target_status(summary: Summary, target: Target) -> tuple[str, str, bool | None]:
    """Return the goal, the measured value and whether it was met (None: not run)."""
    ours = summary.median(target.workload, target.ours)
    if not target.other:
        goal = f"{target.workload}: ours < {target.maximum:g} MB"
        if ours is None:
            return goal, "not run", None
        return goal, f"{ours:.2f} MB", ours < target.maximum
    goal = f"{target.workload}: ours >= {target.minimum:g}x {target.other}"
    other = summary.median(target.workload, target.other)
    if ours is None or other is None:
        return goal, "not run", None
    ratio = ours / other
    return goal, f"{ratio:.2f}x", ratio >= target.minimum


def render_console(summary: Summary) -> str:
    """Return the table and the targets as plain text for the terminal."""
    lines = [f"{'workload':<16} {'subject':<40} {'median':>12} {'unit':<9} ratios"]
    for workload in summary.workloads:
        for row in summary.rows.get(workload.name, []):
            lines.append(
                f"{row.workload:<16} {row.label:<40} {_format(row.median):>12} {row.unit:<9} "
                f"{ratios(summary, workload, row)}"
            )
    lines.append("")
    for target in TARGETS:
        goal, measured, met = target_status(summary, target)
        verdict = {True: "met", False: "NOT met", None: "not run"}[met]
        lines.append(f"target {goal:<40} {measured:>10}  {verdict}")
    return "\n".join(lines)


def render_markdown_tables(summary: Summary) -> str:
    """Return the results table and the targets table in Markdown."""
    lines = [
        "| workload | subject | median | unit | min to max | ours as a multiple of |",
        "|---|---|--:|---|--:|---|",
    ]
    for workload in summary.workloads:
        for row in summary.rows.get(workload.name, []):
            label = f"**{row.label}**" if row.key.startswith("ours") else row.label
            spread = f"{_format(row.low)} to {_format(row.high)}"
            lines.append(
                f"| {row.workload} | {label} | {_format(row.median)} | {row.unit} | {spread} "
                f"| {ratios(summary, workload, row)} |"
            )
    lines += ["", "| target | measured | met |", "|---|--:|---|"]
    for target in TARGETS:
        goal, measured, met = target_status(summary, target)
        verdict = {True: "yes", False: "**no**", None: "not run"}[met]
        lines.append(f"| {goal} | {measured} | {verdict} |")
    return "\n".join(lines)


def render_workloads(summary: Summary) -> str:
    """Return the list of workloads with what each one measures."""
    return "\n".join(f"- **{w.name}**: {w.description} ({w.unit})." for w in summary.workloads)


def write_chart(summary: Summary, peers_python: Path) -> None:
    """Draw docs/benchmarks.png with matplotlib from the peers' virtual environment."""
    data = {
        "workloads": [
            {
                "name": workload.name,
                "unit": workload.unit,
                "rows": [
                    {"label": row.label, "median": row.median, "ours": row.key.startswith("ours")}
                    for row in summary.rows.get(workload.name, [])
                ],
            }
            for workload in summary.workloads
        ]
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(data, handle)
        handle.flush()
        subprocess.run(
            [str(peers_python), str(BENCH_DIR / "chart.py"), handle.name, str(CHART_PATH)],
            check=True,
        )


def write_docs(
    summary: Summary,
    machine: dict[str, str],
    command: str,
    rounds: int,
    elapsed: float,
    peers_python: Path,
) -> None:
    """Write docs/benchmarks.md from bench/notes.md and the results, and the chart."""
    write_chart(summary, peers_python)
    run = (
        f"Command: `.venv/bin/{command}` ({rounds} rounds in {elapsed:.0f} s, "
        f"{machine['date']}).\n\n"
        f"Machine: {machine['cpu']}, {machine['cores']} cores; Python {machine['python']}, "
        f"Node {machine['node']}, nginx {machine['nginx']}; {machine['pinning']}."
    )
    text = NOTES_PATH.read_text()
    text = text.replace("@RUN@", run)
    text = text.replace("@WORKLOADS@", render_workloads(summary))
    text = text.replace("@TABLE@", render_markdown_tables(summary))
    text = text.replace("@GAPS@", GAPS_PATH.read_text().strip())
    DOC_PATH.write_text(text)
