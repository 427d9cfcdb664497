"""Benchmark nglint against its floor, crossplane's parse, in one run on one machine.

    python benchmarks/run.py [--runs 5] [--write docs/performance.md]

Every measurement is a fresh process (so start-up and imports count the same
for both sides), repeated ``--runs`` times; the median wall time and the peak
resident memory (from ``wait4``) are reported, with ratios against the
baseline measured in the same run.  The runs are interleaved (baseline, then
each subject, round after round) and a ratio is the median of the per-round
ratios: on a shared machine whose speed drifts, both sides of a ratio then see
the same conditions.  Targets (issue "Speed"): on a 2,000-server
tree, ``nglint check`` at most 1.3x ``crossplane.parse`` in time and 2x in
memory; a warm re-run at most 0.3x the cold run; a 20-line file end to end
within 100 ms.  Cost must grow linearly with size (1k, 10k, 100k lines).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

PYTHON = sys.executable
PARSE = ("import crossplane, sys; crossplane.parse(sys.argv[1], comments=True, "
         "check_ctx=False, check_args=False)")
SMALL = """\
events {}
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        server_name lab.example.com;
        location / {
            proxy_pass http://127.0.0.1:8888;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
            client_max_body_size 100m;
        }
        location = /healthz {
            return 204;
        }
    }
}
"""


@dataclass
class Measure:
    label: str
    seconds: float  # median wall time
    peak_kib: int  # largest peak resident memory over the runs
    times: list[float]

    def ratio(self, base: Measure) -> float:
        """Median of the per-round ratios to ``base`` (measured interleaved with it)."""
        return statistics.median(t / b for t, b in zip(self.times, base.times, strict=True))


@dataclass
class Subject:
    label: str
    argv: list[str]
    prepare: list[str] | None = None  # run before each measured run (a warm cache)


def _once(subject: Subject, env: dict[str, str] | None) -> tuple[float, int]:
    if subject.prepare:
        subprocess.run(subject.prepare, capture_output=True, env=env, check=False)
    start = time.perf_counter()
    process = subprocess.Popen(subject.argv, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = 0  # reaped by wait4
    return elapsed, usage.ru_maxrss


def measure(subjects: list[Subject], runs: int,
            env: dict[str, str] | None = None) -> list[Measure]:
    """Run every subject ``runs`` times, interleaved round by round."""
    times: list[list[float]] = [[] for _ in subjects]
    peaks: list[list[int]] = [[] for _ in subjects]
    for _ in range(runs):
        for index, subject in enumerate(subjects):
            elapsed, peak = _once(subject, env)
            times[index].append(elapsed)
            peaks[index].append(peak)
    return [Measure(s.label, statistics.median(t), max(p), t)
            for s, t, p in zip(subjects, times, peaks, strict=True)]


def nglint(*args: str) -> list[str]:
    return [PYTHON, "-m", "nglint", *args]


def has_option(option: str) -> bool:
    help_text = subprocess.run(nglint("check", "--help"), capture_output=True, text=True).stdout
    return option in help_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--write", type=Path, help="write the Markdown table here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nglint-bench-"))
    cache_dir = work / "cache"
    # as installed: bytecode compiled once, not on every start (some shells set
    # PYTHONDONTWRITEBYTECODE, which would charge every run for compiling nglint)
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_CACHE_HOME=str(cache_dir), NO_COLOR="1")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(root / "nglint"), str(root / "rules")],
                   env=env, capture_output=True, check=False)
    cache = has_option("--no-cache")
    rows: list[tuple[str, str, str, str]] = []
    try:
        big = work / "big"
        lines = generate(big, args.servers)
        conf = str(big / "nginx.conf")
        cold_args = ["check", "--format", "json", str(big)]
        if cache:
            cold_args.insert(1, "--no-cache")
        subjects = [Subject("crossplane.parse", [PYTHON, "-c", PARSE, conf]),
                    Subject("nglint check (all rules)", nglint(*cold_args)),
                    Subject("nglint check --diff", nglint("check", "--diff", str(big)))]
        if cache:
            warm_argv = nglint("check", "--format", "json", str(big))
            subjects.append(Subject("nglint check, warm re-run", warm_argv, warm_argv))
        gixy = shutil.which("gixy")
        if gixy:
            subjects.append(Subject("gixy (Gixy-Next)", [gixy, conf]))
        results = measure(subjects, args.runs, env)
        floor, cold = results[0], results[1]
        for result in results:
            rows.append((f"{result.label} ({lines:,} lines, {args.servers:,} servers)",
                         f"{result.seconds:.3f} s", f"{result.ratio(floor):.2f}x",
                         f"{result.peak_kib / 1024:.0f} MiB "
                         f"({result.peak_kib / floor.peak_kib:.2f}x)"))
        if cache:
            warm = results[3]
            rows.append(("warm / cold", "", f"{warm.ratio(cold):.2f}x", ""))

        small = work / "small.conf"
        small.write_text(SMALL)
        noop, tiny = measure([Subject("python -c pass", [PYTHON, "-c", "pass"]),
                              Subject("nglint check, 20-line file", nglint("check", str(small)))],
                             args.runs * 2, env)
        rows.append((noop.label, f"{noop.seconds * 1000:.0f} ms", "", ""))
        rows.append((tiny.label, f"{tiny.seconds * 1000:.0f} ms",
                     f"+{(tiny.seconds - noop.seconds) * 1000:.0f} ms over python", ""))

        for target_lines in (1_000, 10_000, 100_000):
            servers = max(1, round(target_lines / 30.6))
            tree = work / f"scale-{target_lines}"
            real_lines = generate(tree, servers)
            scale_args = ["check", "--format", "json", str(tree)]
            if cache:
                scale_args.insert(1, "--no-cache")
            base, check = measure(
                [Subject("parse", [PYTHON, "-c", PARSE, str(tree / "nginx.conf")]),
                 Subject("check", nglint(*scale_args))], args.runs, env)
            rows.append((f"scaling: {real_lines:,} lines", f"{check.seconds:.3f} s",
                         f"{check.ratio(base):.2f}x parse "
                         f"({base.seconds:.3f} s)",
                         f"{check.seconds / real_lines * 1e6:.1f} us/line"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, {platform.platform()}")
    table = ["| measurement | time | ratio | memory / note |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join(table)
    print(f"machine: {machine}\n{text}")
    if args.write:
        header = args.write.read_text().split("<!-- results -->")[0] if args.write.exists() \
            else "# Performance\n\n"
        args.write.write_text(f"{header}<!-- results -->\nMeasured by `python benchmarks/run.py"
                              f" --runs {args.runs}` on {machine}, "
                              f"{time.strftime('%Y-%m-%d')}.\n\n{text}\n")


if __name__ == "__main__":
    main()
