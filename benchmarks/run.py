"""Benchmark nglint against its floor, crossplane's parse, in one run on one machine.

    python benchmarks/run.py [--runs 5] [--only trees,quadratic] [--write docs/performance.md]

Every measurement is a fresh process (so start-up and imports count the same
for both sides), repeated ``--runs`` times; the median wall time and the peak
resident memory (GNU time's ``%M``, KiB) are reported, with ratios against the
baseline measured in the same run.  The runs are interleaved (baseline, then
each subject, round after round) and a ratio is the median of the per-round
ratios: on a shared machine whose speed drifts, both sides of a ratio then see
the same conditions.  The big items (the 20,000-server tree, the 500,000-line
scaling point and the quadratic checks) run ``--big-runs`` times (default 1):
they take tens of seconds each.

Sections (``--only``, comma-separated; all by default):

- ``trees``: the benchmark's tree (``generate.py``) and a flat tree (one server a
  file in ``conf.d/``), ``--servers`` servers each: cold ``nglint check`` vs
  ``crossplane.parse`` (time and peak memory), ``--diff`` and ``--fix`` (on a
  fresh copy of the tree for every run) vs the cold check, a warm re-run vs cold;
- ``large``: the benchmark's tree at ``--large-servers`` servers: the memory
  ratio to the parse there vs at ``--servers`` (and the time ratio);
- ``small``: a 20-line file end to end vs ``python -c "import crossplane"``, and
  its warm re-run vs cold;
- ``scaling``: trees of ``--sizes`` lines: cost per line and ratio to the parse;
- ``quadratic``: one include glob matching ``--glob-files`` files vs ``nginx -t``
  on the same tree, ``--repeated`` repeated directives in one block (one NG011
  each, counted), ``--many`` directives in one location, a ``--long-line``-byte
  line; each against its bound, with crossplane.parse on the same tree for context.

The targets are issue 19's; each gets a bound, the measured value and met / not
met.  Nothing here needs more than Python, crossplane, nglint and (for the glob)
nginx; ``/usr/bin/time -v`` gives the same figures one command at a time
(README, "Performance").
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import (
    generate,
    generate_flat,
    generate_glob,
    generate_long_line,
    generate_many,
    generate_repeated,
)

PYTHON = sys.executable
# crossplane.parse with the options nglint uses: comments kept, no context or argument
# checks (nglint checks those against its own directive table)
PARSE = ("import crossplane, sys; crossplane.parse(sys.argv[1], comments=True, "
         "check_ctx=False, check_args=False)")
# the modules a check of one file imports (nglint's and the others), one per line
IMPORTED = ("import contextlib, io, sys; from nglint.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['check', '--no-cache', sys.argv[1]], standalone_mode=False)\n"
            "    except SystemExit: pass\n"
            "sys.stderr.write('\\nmodules:\\n' + '\\n'.join(sorted(name for name in sys.modules\n"
            "    if not name.startswith('_') and '.' not in name or name.startswith('nglint'))))")
# reading every file of a glob, in Python: open, read, close, as nglint's reader does
READ = ("import glob, sys\n"
        "for path in sorted(glob.glob(sys.argv[1])):\n"
        "    with open(path, 'rb') as file: file.read()")
LINES_PER_SERVER = 30.6  # generate.py's average, mime.types and nginx.conf included
SECTIONS = ("trees", "large", "small", "scaling", "quadratic")
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
    peak_kib: int  # largest peak resident memory over the runs, KiB
    times: list[float]  # wall time of each run, seconds, in round order
    timed_out: bool = False

    def ratio(self, base: Measure) -> float:
        """Median of the per-round time ratios to ``base`` (measured interleaved)."""
        return statistics.median(t / b for t, b in zip(self.times, base.times, strict=True))

    def memory(self, base: Measure) -> float:
        """Peak memory over ``base``'s peak."""
        return self.peak_kib / base.peak_kib


@dataclass
class Subject:
    label: str
    argv: list[str]
    # run before each measured run, untimed: a command (a warm cache) or a callable
    # (a fresh copy of the tree for --fix)
    prepare: list[str] | Callable[[], object] | None = None
    output: Path | None = None  # the last run's stdout goes here (checked afterwards)


@dataclass
class Report:
    """What a run prints: measurements and targets, both as Markdown tables."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    targets: list[tuple[str, str, str, str]] = field(default_factory=list)

    def row(self, label: str, result: Measure, base: Measure | None, note: str = "") -> None:
        time_text = (f"> {result.seconds:.1f} s (killed: timed out)" if result.timed_out
                     else f"{result.seconds:.3f} s")
        ratio = f"{result.ratio(base):.2f}x {base.label}" if base is not None else ""
        memory = f"{result.peak_kib / 1024:.0f} MiB"
        if base is not None:
            memory += f" ({result.memory(base):.2f}x)"
        self.rows.append((label, time_text, ratio, f"{memory} {note}".strip()))

    def target(self, name: str, bound: str, measured: str, met: bool) -> None:
        self.targets.append((name, bound, measured, "met" if met else "**not met**"))

    def markdown(self) -> str:
        table = ["| measurement | time (median) | ratio (median per round) | peak memory |",
                 "|---|---|---|---|"]
        table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        goals = ["| target (issue 19) | bound | measured | status |", "|---|---|---|---|"]
        goals += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.targets]
        return "\n".join(goals) + "\n\n" + "\n".join(table)


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def _once(subject: Subject, env: dict[str, str], timeout: float,
          scratch: Path) -> tuple[float, int, bool]:
    """One run: wall time (s), peak resident memory (KiB), whether it was killed.

    The peak comes from GNU time's ``%M`` (its child's ``ru_maxrss``): Linux keeps a
    process's high-water mark across ``execve``, so ``wait4`` on a child spawned from
    this process reports at least this process's own peak (a benchmark that had read
    a large report made every later subject look as large).  Without /usr/bin/time,
    ``wait4`` (an upper bound)."""
    if callable(subject.prepare):
        subject.prepare()
    elif subject.prepare:
        subprocess.run(subject.prepare, capture_output=True, env=env, check=False)
    peak_file = scratch / "peak"
    argv = ([GNU_TIME, "-f", "%M", "-o", str(peak_file), *subject.argv] if GNU_TIME
            else subject.argv)
    out = open(subject.output, "wb") if subject.output else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env,
                                   start_new_session=True)
        killer = threading.Timer(timeout, os.killpg, (process.pid, 9))
        killer.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        killer.cancel()
        process.returncode = 0  # reaped by wait4
    finally:
        if subject.output:
            out.close()  # type: ignore[union-attr]
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
    peak = usage.ru_maxrss
    if GNU_TIME and not killed:
        peak = int(peak_file.read_text().split()[-1])  # KiB
    return elapsed, peak, killed


def measure(subjects: list[Subject], runs: int, env: dict[str, str],
            timeout: float = 900) -> list[Measure]:
    """Run every subject ``runs`` times, interleaved round by round; a run past
    ``timeout`` seconds is killed and the subject marked as timed out."""
    times: list[list[float]] = [[] for _ in subjects]
    peaks: list[list[int]] = [[] for _ in subjects]
    killed = [False] * len(subjects)
    for _ in range(runs):
        for index, subject in enumerate(subjects):
            elapsed, peak, timed_out = _once(subject, env, timeout,
                                             Path(env["XDG_CACHE_HOME"]).parent)
            times[index].append(elapsed)
            peaks[index].append(peak)
            killed[index] |= timed_out
    return [Measure(s.label, statistics.median(t), max(p), t, k)
            for s, t, p, k in zip(subjects, times, peaks, killed, strict=True)]


def nglint(*args: str) -> list[str]:
    return [PYTHON, "-m", "nglint", *args]


def parse(conf: Path) -> Subject:
    return Subject("crossplane.parse", [PYTHON, "-c", PARSE, str(conf)])


def cold(target: Path, output: Path | None = None) -> Subject:
    return Subject("nglint check", nglint("check", "--no-cache", "--format", "json",
                                          str(target)), output=output)


def _copier(source: Path, copy: Path) -> Callable[[], None]:
    def fresh() -> None:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(source, copy, symlinks=True)
    return fresh


def trees(report: Report, work: Path, servers: int, runs: int, env: dict[str, str]) -> None:
    """Both 2,000-server trees: cold vs parse, memory, --diff and --fix vs cold, warm."""
    for kind, build in (("benchmark tree", generate), ("flat tree", generate_flat)):
        tree = work / kind.replace(" ", "-")
        lines = build(tree, servers)
        copy = work / "fix-copy"
        warm_argv = nglint("check", "--format", "json", str(tree))
        subjects = [parse(tree / "nginx.conf"), cold(tree),
                    Subject("nglint check --diff", nglint("check", "--no-cache", "--diff",
                                                          str(tree))),
                    Subject("nglint check --fix (a fresh copy)",
                            nglint("check", "--no-cache", "--fix", str(copy)),
                            prepare=_copier(tree, copy)),
                    Subject("nglint check, warm re-run", warm_argv, prepare=warm_argv)]
        floor, check, diff, fix, warm = measure(subjects, runs, env)
        shutil.rmtree(copy, ignore_errors=True)
        where = f"{kind}: {servers:,} servers, {lines:,} lines"
        report.row(f"{floor.label} ({where})", floor, None)
        report.row(f"{check.label} ({where})", check, floor)
        for result in (diff, fix, warm):
            report.row(f"{result.label} ({where})", result, check)
        report.target(f"cold check vs crossplane.parse, {kind} ({servers:,} servers)",
                      "<= 1.0x", f"{check.ratio(floor):.2f}x", check.ratio(floor) <= 1.0)
        if kind == "benchmark tree":
            report.target(f"peak memory vs crossplane.parse's ({servers:,} servers)",
                          "<= 1.5x", f"{check.memory(floor):.2f}x", check.memory(floor) <= 1.5)
        else:
            report.target(f"peak memory vs crossplane.parse's, {kind} (for information)",
                          "<= 1.5x", f"{check.memory(floor):.2f}x", check.memory(floor) <= 1.5)
        for result, name in ((diff, "--diff"), (fix, "--fix")):
            report.target(f"{name} vs cold check, {kind}", "<= 1.5x",
                          f"{result.ratio(check):.2f}x", result.ratio(check) <= 1.5)
        report.target(f"warm re-run vs cold, {kind}", "<= 0.1x",
                      f"{warm.ratio(check):.2f}x", warm.ratio(check) <= 0.1)


def large(report: Report, work: Path, servers: int, big_servers: int, runs: int,
          big_runs: int, env: dict[str, str]) -> None:
    """Memory (and time) ratio to the parse at ``servers`` and ``big_servers``."""
    ratios: dict[int, tuple[float, float]] = {}
    for count, rounds in ((servers, runs), (big_servers, big_runs)):
        tree = work / f"large-{count}"
        lines = generate(tree, count)
        floor, check = measure([parse(tree / "nginx.conf"), cold(tree)], rounds, env)
        where = f"{count:,} servers, {lines:,} lines, {rounds} run(s)"
        report.row(f"{floor.label} ({where})", floor, None)
        report.row(f"{check.label} ({where})", check, floor)
        ratios[count] = (check.memory(floor), check.ratio(floor))
        shutil.rmtree(tree, ignore_errors=True)
    small_memory, small_time = ratios[servers]
    big_memory, big_time = ratios[big_servers]
    # "does not grow": within 0.05 of the smaller tree's ratio (peak RSS moves that much
    # from run to run)
    report.target(f"memory ratio does not grow, {servers:,} -> {big_servers:,} servers",
                  f"<= {small_memory:.2f}x + 0.05", f"{small_memory:.2f}x -> {big_memory:.2f}x",
                  big_memory <= small_memory + 0.05)
    report.target(f"time ratio at {big_servers:,} servers (for information)",
                  "<= 1.0x", f"{small_time:.2f}x -> {big_time:.2f}x", big_time <= 1.0)


def small(report: Report, work: Path, runs: int, env: dict[str, str]) -> None:
    """The 20-line file: end to end vs importing crossplane; warm vs cold.

    Two floors are measured beside it: importing click and crossplane (what any click
    program over crossplane pays), and importing every module the check imports, with
    nothing run (what the check pays before it reads the file)."""
    conf = work / "small.conf"
    conf.write_text(SMALL)
    lines = SMALL.count("\n")
    warm_argv = nglint("check", str(conf))
    imported = subprocess.run([PYTHON, "-c", IMPORTED, str(conf)], capture_output=True,
                              text=True, env=env, check=True
                              ).stderr.rsplit("\nmodules:\n", 1)[-1].split()
    base, click_floor, import_floor, check, warm = measure(
        [Subject('python -c "import crossplane"', [PYTHON, "-c", "import crossplane"]),
         Subject('python -c "import click, crossplane"',
                 [PYTHON, "-c", "import click, crossplane"]),
         # leaving as nglint does (os._exit: no teardown of the modules)
         Subject(f"import the {len(imported)} modules a check imports, nothing run",
                 [PYTHON, "-c", f"import os, {', '.join(imported)}; os._exit(0)"]),
         Subject(f"nglint check, {lines}-line file", nglint("check", "--no-cache", str(conf))),
         Subject(f"nglint check, {lines}-line file, warm", warm_argv, prepare=warm_argv)],
        runs * 2, env)
    report.row(base.label, base, None)
    report.row(click_floor.label, click_floor, base)
    report.row(import_floor.label, import_floor, base)
    report.row(check.label, check, base)
    report.row(warm.label, warm, check)
    report.target(f"{lines}-line file end to end vs import crossplane", "<= 2.0x",
                  f"{check.ratio(base):.2f}x ({check.seconds * 1000:.0f} ms vs "
                  f"{base.seconds * 1000:.0f} ms; importing alone "
                  f"{import_floor.ratio(base):.2f}x, click and crossplane "
                  f"{click_floor.ratio(base):.2f}x)", check.ratio(base) <= 2.0)
    report.target(f"warm re-run faster than cold, {lines}-line file", "< 1.0x",
                  f"{warm.ratio(check):.2f}x", warm.ratio(check) < 1.0)


def scaling(report: Report, work: Path, sizes: list[int], runs: int, big_runs: int,
            env: dict[str, str]) -> None:
    """Cost per line from the smallest to the largest size (benchmark trees)."""
    costs: list[tuple[int, float]] = []
    for target in sizes:
        tree = work / f"scale-{target}"
        lines = generate(tree, max(1, round(target / LINES_PER_SERVER)))
        rounds = big_runs if target > 100_000 else runs
        floor, check = measure([parse(tree / "nginx.conf"), cold(tree)], rounds, env)
        shutil.rmtree(tree, ignore_errors=True)
        per_line = check.seconds / lines * 1e6
        costs.append((lines, per_line))
        report.row(f"scaling: {lines:,} lines ({rounds} run(s)): nglint check", check, floor,
                   f"; {per_line:.1f} us/line (parse {floor.seconds / lines * 1e6:.1f})")
    # "flat or falling": no step costs more than 10% more a line than the one before
    # (the smallest trees are start-up dominated, so the cost falls at first)
    steps = [later / earlier for (_, earlier), (_, later) in itertools.pairwise(costs)]
    report.target(f"cost per line flat or falling, {costs[0][0]:,} -> {costs[-1][0]:,} lines",
                  "each step <= 1.10x the previous",
                  " -> ".join(f"{cost:.1f}" for _, cost in costs) + " us/line",
                  all(step <= 1.10 for step in steps))


def _finding_codes(output: Path) -> dict[str, int]:
    try:
        found = json.loads(output.read_text())["findings"]
    except (OSError, ValueError, KeyError):
        return {}
    codes: dict[str, int] = {}
    for finding in found:
        codes[finding["code"]] = codes.get(finding["code"], 0) + 1
    return codes


def quadratic(report: Report, work: Path, args: argparse.Namespace,
              env: dict[str, str]) -> None:
    """The hostile sizes, each against its bound (issue 19, "no quadratic paths")."""
    runs, timeout = args.big_runs, args.timeout
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    tree = work / "glob"
    conf = generate_glob(tree, args.glob_files)
    subjects = [parse(conf), cold(tree / "nginx.conf"),
                Subject("Python reads every file (open, read, close)",
                        [PYTHON, "-c", READ, str(tree / "conf.d" / "*.conf")])]
    if nginx:
        subjects.insert(0, Subject("nginx -t", [nginx, "-t", "-q", "-p", f"{tree}/", "-c",
                                                str(conf), "-e", str(tree / "logs" / "error.log")]))
    results = measure(subjects, runs, env, timeout)
    where = f"one include glob, {args.glob_files:,} files, {runs} run(s)"
    if nginx:
        base, floor, check, reading = results
        report.row(f"{base.label} ({where})", base, None)
        report.row(f"{floor.label} ({where})", floor, base)
        report.row(f"{reading.label} ({where})", reading, base)
        report.row(f"{check.label} ({where})", check, base)
        report.target(f"one include glob matching {args.glob_files:,} files vs nginx -t",
                      "<= 3.0x", f"{check.ratio(base):.2f}x ({check.seconds:.1f} s"
                      f"{', killed: --timeout' if check.timed_out else ''}; "
                      f"crossplane.parse {floor.ratio(base):.2f}x, Python reading the "
                      f"files {reading.ratio(base):.2f}x)",
                      not check.timed_out and check.ratio(base) <= 3.0)
    else:
        report.row(f"nglint check ({where}; no nginx to compare)", results[1], results[0])
    shutil.rmtree(tree, ignore_errors=True)

    output = work / "out.json"
    for name, build, size, bound, expect in (
            (f"{args.repeated:,} repeated directives in one block", generate_repeated,
             args.repeated, 10.0, ("NG011", args.repeated - 1)),
            (f"{args.many:,} directives in one location", generate_many, args.many, 10.0,
             None),
            (f"a {args.long_line:,}-byte line", generate_long_line, args.long_line,
             1.0, ("NG001", 1))):
        tree = work / "hostile"
        conf = build(tree, size)
        floor, check = measure([parse(conf), cold(conf, output)], runs, env, timeout)
        codes = _finding_codes(output)
        correct = expect is None or codes.get(expect[0], 0) == expect[1]
        found = ", ".join(f"{n:,} {code}" for code, n in sorted(codes.items())) or "none"
        report.row(f"{floor.label} ({name}, {runs} run(s))", floor, None)
        report.row(f"{check.label} ({name}, {runs} run(s))", check, floor,
                   f"; findings: {found}")
        expected = f"; {expect[1]:,} {expect[0]} expected" if expect else ""
        measured = (f"killed after {check.seconds:.1f} s (--timeout)" if check.timed_out
                    else f"{check.seconds:.2f} s ({check.ratio(floor):.2f}x crossplane.parse"
                    f"{expected}{'' if correct else f', WRONG COUNT: {found}'})")
        report.target(name, f"<= {bound:g} s", measured,
                      not check.timed_out and check.seconds <= bound and correct)
        shutil.rmtree(tree, ignore_errors=True)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "").replace("k", "000")) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds for the 2,000-server items")
    parser.add_argument("--big-runs", type=int, default=1,
                        help="rounds for the 20,000-server tree, scaling points over 100k "
                             "lines and the quadratic checks")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"sections to run, comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--large-servers", type=int, default=20000)
    parser.add_argument("--sizes", type=_sizes, default=[1_000, 10_000, 100_000, 500_000],
                        help="scaling sizes in lines, e.g. 1k,10k,100k,500k")
    parser.add_argument("--glob-files", type=int, default=100_000)
    parser.add_argument("--repeated", type=int, default=100_000)
    parser.add_argument("--many", type=int, default=1_000_000)
    parser.add_argument("--long-line", type=int, default=1 << 20, help="bytes")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds before a quadratic check's run is killed")
    parser.add_argument("--write", type=Path, help="rewrite this file's results section")
    args = parser.parse_args()
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    work = Path(tempfile.mkdtemp(prefix="nglint-bench-"))
    # as installed: bytecode compiled once, not on every start (some shells set
    # PYTHONDONTWRITEBYTECODE, which would charge every run for compiling nglint)
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_CACHE_HOME=str(work / "cache"), NO_COLOR="1")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(root / "nglint"), str(root / "rules")],
                   env=env, capture_output=True, check=False)
    report = Report()
    started = time.monotonic()
    try:
        for section in SECTIONS:
            if section not in only:
                continue
            print(f"[{time.monotonic() - started:6.0f} s] {section}", file=sys.stderr,
                  flush=True)
            if section == "trees":
                trees(report, work, args.servers, args.runs, env)
            elif section == "large":
                large(report, work, args.servers, args.large_servers, args.runs,
                      args.big_runs, env)
            elif section == "small":
                small(report, work, args.runs, env)
            elif section == "scaling":
                scaling(report, work, args.sizes, args.runs, args.big_runs, env)
            else:
                quadratic(report, work, args, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, {platform.platform()}")
    text = report.markdown()
    command = " ".join(["python benchmarks/run.py", f"--runs {args.runs}",
                        f"--big-runs {args.big_runs}",
                        *([f"--only {args.only}"] if set(only) != set(SECTIONS) else [])])
    print(f"machine: {machine}\n{text}")
    if args.write:
        header = args.write.read_text().split("<!-- results -->")[0] if args.write.exists() \
            else "# Performance\n\n"
        args.write.write_text(f"{header}<!-- results -->\nMeasured by `{command}` on {machine}, "
                              f"{time.strftime('%Y-%m-%d')}, in "
                              f"{time.monotonic() - started:.0f} s.\n\n{text}\n")


if __name__ == "__main__":
    main()
