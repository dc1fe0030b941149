"""Run every benchmark and write docs/benchmarks.md and docs/benchmarks.png.

Usage: ``.venv/bin/python -m bench [--quick] [--rounds N] [--only WORKLOAD ...]``.

Each round runs every workload once for every subject, each run in a fresh process.
The subjects' order rotates from round to round, so none always runs first or last
while the machine warms up or other work competes for the CPU. The report shows the
median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import cores, environment, report
from bench.nginx import nginx_executable, run_nginx
from bench.plan import NODE, OURS_ENV, WORKLOADS, Subject, Workload

RUN_TIMEOUT = 300.0

Results = dict[str, dict[str, list[float]]]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller counts and 3 rounds: under two minutes"
    )
    parser.add_argument("--rounds", type=int, help="rounds to run (default: 5, or 3 with --quick)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORKLOAD",
        help="run these workloads only, without writing docs",
    )
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    return parser.parse_args(argv)


def command_for(subject: Subject, spec: dict[str, Any], peers_python: Path) -> list[str]:
    """Return the command that runs one subject's workload with `spec`."""
    if subject.runtime == NODE:
        payload = json.dumps({**spec, "workload": subject.workload})
        return [environment.node_executable(), str(environment.BENCH_DIR / "npm_bench.js"), payload]
    python = sys.executable if subject.runtime == OURS_ENV else str(peers_python)
    payload = json.dumps({**spec, "subject": subject.module, "workload": subject.workload})
    return [python, "-m", "bench.runner", payload]


def run_one(command: list[str]) -> float:
    """Run one measurement in a fresh process and return the number it printed."""
    completed = subprocess.run(
        command,
        cwd=environment.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
        preexec_fn=cores.pin_subject(),
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"benchmark run failed with status {completed.returncode}: {command[-1]}\n"
            f"{completed.stderr[-3000:]}"
        )
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["value"])


def run_round(
    index: int, workloads: list[Workload], quick: bool, port: int, peers_python: Path
) -> Results:
    """Run every subject of every workload once, rotating the subjects' order by `index`."""
    results: Results = {}
    for workload in workloads:
        spec = {**(workload.quick if quick else workload.full), "port": port}
        shift = index % len(workload.subjects)
        order = workload.subjects[shift:] + workload.subjects[:shift]
        for subject in order:
            value = run_one(command_for(subject, spec, peers_python))
            results.setdefault(workload.name, {})[subject.key] = [value]
            print(f"  {workload.name:<16} {subject.label:<40} {value:>12.1f} {workload.unit}")
    return results


def merge(total: Results, round_results: Results) -> None:
    """Append one round's values to the totals."""
    for workload, by_subject in round_results.items():
        for key, values in by_subject.items():
            total.setdefault(workload, {}).setdefault(key, []).extend(values)


def describe_machine() -> dict[str, str]:
    """Return the facts a reader needs to weigh the numbers: CPU, cores, versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(
        [environment.node_executable(), "--version"], capture_output=True, text=True, check=False
    )
    nginx = subprocess.run(
        [nginx_executable() or "nginx", "-v"], capture_output=True, text=True, check=False
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "nginx": (nginx.stderr or nginx.stdout).strip().split("/")[-1],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "pinning": cores.describe(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, and write the docs unless --only or --no-docs."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rounds = args.rounds or (3 if args.quick else 5)
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    if args.only and len(workloads) != len(args.only):
        known = ", ".join(w.name for w in WORKLOADS)
        raise SystemExit(f"unknown workload in --only {args.only}: choose from {known}")

    environment.ensure_nginx()
    peers_python = environment.ensure_peers_venv()
    environment.node_executable()
    started = time.monotonic()
    results: Results = {}
    with run_nginx() as port:
        for index in range(rounds):
            print(f"bench: round {index + 1} of {rounds}", flush=True)
            merge(results, run_round(index, workloads, args.quick, port, peers_python))
    elapsed = time.monotonic() - started

    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.rounds:
        command += f" --rounds {args.rounds}"
    summary = report.summarize(workloads, results)
    print(report.render_console(summary))
    print(f"bench: {rounds} rounds in {elapsed:.0f} s")
    if not (args.only or args.no_docs):
        machine = describe_machine()
        report.write_docs(summary, machine, command, rounds, elapsed, peers_python)
        print(f"bench: wrote {report.DOC_PATH} and {report.CHART_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
