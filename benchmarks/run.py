"""Time every command against the plumbing floors, pairwise, on generated repositories.

    python benchmarks/run.py [--repeat 3] [--work DIR] [--write-docs] [--quick]

Repositories (benchmarks/make_repo.py, bare, generated once into --work and reused; the
directory name carries a digest of the generator, so editing it builds new ones):

    one-200, one-2k, one-20k   dev one changed values.yaml ahead of a promoted stg ("20k-1")
    std-2k                     dev five commits ahead of stg (bumps, probes, a new and a
                               removed app: seeds and an orphan), as in docs/benchmarks.md
    differ-20k                 every app's env files differ (`--all-env-files-differ`)

Every step runs once per round and the rounds alternate the steps, so each figure and its
floor are measured under the same load (this machine is shared). A promotion starts from the
same commit each time (stg is put back with `git update-ref`) and its tree must equal the tree
floor's, or the run fails. After the timed rounds each step runs once more through a `git` on
PATH that counts processes, inside a wrapper that reports the peak resident memory of the
largest process of the run (getrusage of its children: gitops or one of its gits).

Writes (with --write-docs) the tables into docs/benchmarks.md and the plot
docs/benchmarks-wall-time.svg (wall time against repository size, per command).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: the sibling modules are not a package

import make_repo  # noqa: E402
import startup as startup_bench  # noqa: E402
import svgplot  # noqa: E402
import tree_floor  # noqa: E402

DOCS = HERE.parent / "docs" / "benchmarks.md"
PLOT = HERE.parent / "docs" / "benchmarks-wall-time.svg"
START, END = "<!-- results:start (benchmarks/run.py --write-docs) -->", "<!-- results:end -->"
DEFAULT_WORK = Path(os.environ.get("GITOPS_BENCH_WORK", "/tmp/gitops-promote-bench"))

REPOS = {
    "one-200": make_repo.RepoSpec(apps=200, bare=True, one_change=True),
    "one-2k": make_repo.RepoSpec(apps=2000, bare=True, one_change=True),
    "one-20k": make_repo.RepoSpec(apps=20000, bare=True, one_change=True),
    "std-2k": make_repo.RepoSpec(apps=2000, bare=True),
    "differ-20k": make_repo.RepoSpec(apps=20000, bare=True, all_env_files_differ=True),
}
COMMANDS = {
    "promote": ["promote", "dev", "stg", "--no-push"],
    "diff": ["diff", "dev", "stg", "--output", "json"],
    "plan": ["plan", "dev", "stg", "--output", "json"],
    "status": ["status", "--output", "json"],
    "history": ["history", "stg", "--output", "json"],
    "plan --app": ["plan", "dev", "stg", "--app", "app0001", "--output", "json"],  # by name: git's search
    "verify": ["verify", "stg", "--output", "json"],  # stg's promotion recomputed and compared
    "parity": ["parity", "--output", "json"],
    # parity keeps what each file says in the git directory (docs/commands/parity.md): this
    # step deletes those files first, as in a fresh clone (a CI job), the row above keeps them
    "parity (cold)": ["parity", "--output", "json"],
}
KEPT_BY_PARITY = ("gitops-parity-facts", "gitops-parity-tables", "gitops-parity-listing")
# Where each repository's table comes from and what it runs (the plot uses the one-* ones).
PLAN = {
    "one-200": list(COMMANDS),
    "one-2k": list(COMMANDS),
    "one-20k": list(COMMANDS),
    "std-2k": list(COMMANDS),
    "differ-20k": ["diff"],
}
QUICK = {"one-200": list(COMMANDS), "std-2k": ["promote", "diff", "plan"]}
TARGETS = {  # (repository, command) -> seconds of wall time (issue 11)
    ("one-20k", "promote"): 0.5,
    ("one-20k", "diff"): 0.5,
    ("one-20k", "plan"): 0.5,
    ("one-20k", "status"): 0.5,
    ("one-20k", "history"): 0.5,
    ("one-20k", "parity"): 2.0,
    ("one-20k", "parity (cold)"): 2.0,
    ("differ-20k", "diff"): 3.0,
}
MEMORY_TARGET_MIB = 64  # promote, status and diff at 20k


@dataclass
class Step:
    repo: str
    name: str  # a command, or "tree floor" / "index floor"
    argv: list[str]
    seconds: list[float] = field(default_factory=list)
    # user + system CPU of the step and every process it waited for (its git processes): less
    # moved by other work on a shared host than wall time, and wall - cpu is time spent waiting
    cpu: list[float] = field(default_factory=list)
    processes: int | None = None
    peak_mib: float | None = None
    exit_code: int | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# ---- repositories ------------------------------------------------------------------------------


def cached_repo(work: Path, name: str) -> Path:
    sources = Path(make_repo.__file__).read_bytes() + make_repo.REFERENCE_REGISTRY.read_bytes()
    path = work / f"{name}-{hashlib.sha256(sources).hexdigest()[:12]}.git"
    if not path.is_dir():
        for stale in work.glob(f"{name}-*.git"):
            shutil.rmtree(stale, ignore_errors=True)
        info = make_repo.build_repo(path, REPOS[name])
        print(f"generated {path.name} in {info.seconds:.1f}s", file=sys.stderr)
    return path


def files_on_dev(repo: Path) -> int:
    return make_repo.git(repo, "ls-tree", "-r", "--name-only", "dev").count("\n")


def stg_of(repo: Path) -> str:
    return make_repo.git(repo, "rev-parse", "--verify", "refs/heads/stg").strip()


def restore(repo: Path, stg: str) -> None:
    make_repo.git(repo, "update-ref", "refs/heads/stg", stg)


# ---- running -----------------------------------------------------------------------------------

WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def gitops_argv() -> list[str]:
    gitops = shutil.which("gitops")
    return [gitops] if gitops else [sys.executable, "-m", "gitops_promote"]


# Every step runs as an installed package runs: bytecode cached (this environment may set
# PYTHONDONTWRITEBYTECODE, which would compile the package again on every run).
STEP_ENV: dict[str, str] = dict(os.environ)


def forget_kept_files(step: Step, cwd: Path) -> None:
    if step.name == "parity (cold)":
        for name in KEPT_BY_PARITY:
            (cwd / name).unlink(missing_ok=True)  # the benchmark repositories are bare


def timed_once(step: Step, cwd: Path) -> None:
    forget_kept_files(step, cwd)
    before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(step.argv, cwd=cwd, env=STEP_ENV, capture_output=True, check=False)  # noqa: S603
    step.seconds.append(time.perf_counter() - started)
    step.cpu.append(_children_cpu() - before)
    step.exit_code = done.returncode
    if done.returncode not in (0, 1):
        raise SystemExit(f"{step.repo}: `{' '.join(step.argv)}` exited {done.returncode}: {done.stderr[-400:]!r}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counted_once(step: Step, cwd: Path, shim_dir: Path) -> None:
    """Git processes (a counting `git` on PATH) and the peak RSS of the run's largest process."""
    forget_kept_files(step, cwd)
    log = shim_dir / "calls.log"
    log.write_text("")
    env = {**STEP_ENV, "PATH": f"{shim_dir}:{os.environ['PATH']}", "GIT_BENCH_LOG": str(log)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", WRAPPER, *step.argv], cwd=cwd, env=env, capture_output=True, check=True
    )
    _code, maxrss_kib = done.stdout.split()
    step.peak_mib = int(maxrss_kib) / 1024
    step.processes = len(log.read_text().splitlines())


def make_shim(shim_dir: Path) -> None:
    real = shutil.which("git")
    assert real is not None, "git is not on PATH"
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\necho "$1" >> "$GIT_BENCH_LOG"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)


def steps_for(repo_name: str, repo: Path, commands: Sequence[str]) -> list[Step]:
    floor_argv = [sys.executable, str(HERE / "tree_floor.py"), str(repo)]
    steps = [
        Step(repo_name, "tree floor", floor_argv),
        Step(repo_name, "index floor", [*floor_argv[:1], str(HERE / "floor.py"), str(repo)]),
    ]
    steps += [Step(repo_name, name, [*gitops_argv(), "-C", str(repo), *COMMANDS[name]]) for name in commands]
    return steps


def run_all(work: Path, plan: dict[str, list[str]], repeat: int) -> tuple[list[Step], dict[str, int], list[Step]]:
    repos = {name: cached_repo(work, name) for name in plan}
    originals = {name: stg_of(path) for name, path in repos.items()}
    steps = [s for name, path in repos.items() for s in steps_for(name, path, plan[name])]
    # Start-up (benchmarks/startup.py): its own alternating runs, bytecode cached as installed.
    STEP_ENV.clear()
    STEP_ENV.update(startup_bench.environment(work / "pycache"))
    measured = startup_bench.measure(startup_bench.RUNS, work / "pycache")
    startup = [Step("-", name, [], seconds) for name, seconds in measured.items()]
    for round_number in range(repeat):
        for step in steps:
            repo = repos.get(step.repo, HERE)
            timed_once(step, repo)
            if step.repo in originals:
                _check_and_restore(step, repo, originals[step.repo])
        print(f"round {round_number + 1}/{repeat} done", file=sys.stderr)
    shim_dir = work / "shim"
    make_shim(shim_dir)
    for step in steps:
        counted_once(step, repos[step.repo], shim_dir)
        restore(repos[step.repo], originals[step.repo])
    sizes = {name: files_on_dev(path) for name, path in repos.items()}
    return steps, sizes, startup


def _check_and_restore(step: Step, repo: Path, original: str) -> None:
    """After a promotion (gitops or a floor): the tree must be the tree floor's; then put stg back."""
    moved = stg_of(repo) != original
    if moved and step.name != "tree floor":
        tree = make_repo.git(repo, "rev-parse", "refs/heads/stg^{tree}").strip()
        restore(repo, original)
        expected = tree_floor.promote(repo, dry_run=True).tree
        if tree != expected:
            raise SystemExit(f"{step.repo}: {step.name} wrote tree {tree}, the tree floor {expected}")
    restore(repo, original)


# ---- reporting ---------------------------------------------------------------------------------


def fmt(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def table(repo_name: str, files: int, steps: list[Step], help_median: float) -> list[str]:
    by_name = {s.name: s for s in steps if s.repo == repo_name}
    floor = by_name["tree floor"].median
    lines = [
        f"### {repo_name}: {files:,} files on dev",
        "",
        "| step | median s | min s | cpu s | × tree floor | git processes | peak MiB | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for step in by_name.values():
        cpu = fmt(statistics.median(step.cpu)) if step.cpu else "–"  # results saved before cpu was kept
        lines.append(
            f"| {step.name} | {fmt(step.median)} | {fmt(min(step.seconds))} | {cpu} | {step.median / floor:.1f} | "
            f"{step.processes} | {step.peak_mib:.0f} | {_target(repo_name, step, floor, help_median)} |"
        )
    return [*lines, ""]


def _target(repo_name: str, step: Step, floor: float, help_median: float) -> str:
    verdicts = []
    limit = TARGETS.get((repo_name, step.name))
    if limit is not None:
        verdicts.append(f"≤ {limit} s: {'met' if step.median <= limit else '**not met**'}")
    if repo_name == "std-2k" and step.name == "promote":
        bound = 1.5 * floor + help_median
        verdicts.append(f"≤ 1.5 × floor + `--help` = {bound:.2f} s: {'met' if step.median <= bound else '**not met**'}")
    if repo_name in ("one-20k", "differ-20k") and step.name in ("promote", "status", "diff") and step.peak_mib:
        ok = step.peak_mib <= MEMORY_TARGET_MIB
        verdicts.append(f"≤ {MEMORY_TARGET_MIB} MiB: {'met' if ok else '**not met**'}")
    return "; ".join(verdicts)


def report(steps: list[Step], sizes: dict[str, int], startup: list[Step], repeat: int, when: str | None) -> str:
    help_median = next(s.median for s in startup if s.name == "gitops --help")
    git_version = make_repo.git(HERE, "--version").strip()
    when = when or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Measured {when}; {repeat} rounds, medians; "
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {git_version}.",
        "",
        "| start-up | median s | min s |",
        "|---|---:|---:|",
        *(f"| {_startup_name(s.name)} | {fmt(s.median)} | {fmt(min(s.seconds))} |" for s in startup),
        "",
        "\n\n".join(startup_bench.verdicts({s.name: s.median for s in startup})),
        "",
    ]
    for name in sizes:
        lines += table(name, sizes[name], steps, help_median)
    return "\n".join(lines)


def _startup_name(name: str) -> str:
    """Commands in code type; the import figures (startup.py's docstring says what they are) not."""
    return name if "imports" in name else f"`{name}`"


def plot(steps: list[Step], sizes: dict[str, int]) -> str:
    series: dict[str, list[tuple[float, float]]] = {}
    for step in steps:
        if step.repo.startswith("one-") and step.name != "index floor":
            series.setdefault(step.name, []).append((sizes[step.repo], step.median))
    return svgplot.line_plot(
        series,
        title="Wall time against repository size (dev one file ahead of stg)",
        x_label="files on dev",
        y_label="seconds (median)",
    )


def write_docs(text: str) -> None:
    """Replace the results between the markers of docs/benchmarks.md; keep the prose around."""
    doc = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in doc or END not in doc:
        doc = doc.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = doc.split(START, 1)
    DOCS.write_text(head + f"{START}\n{text}\n{END}" + rest.split(END, 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where repositories are generated")
    parser.add_argument("--quick", action="store_true", help="the small repositories only (a smoke run)")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS.name} and {PLOT.name}")
    parser.add_argument("--json", type=Path, help="also save the raw measurements here")
    parser.add_argument("--render", type=Path, help="no run: report the measurements saved with --json")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        steps, startup = [Step(**s) for s in saved["steps"]], [Step(**s) for s in saved["startup"]]
        sizes, repeat = saved["sizes"], saved["repeat"]
    else:
        args.work.mkdir(parents=True, exist_ok=True)
        steps, sizes, startup = run_all(args.work, QUICK if args.quick else PLAN, args.repeat)
        repeat = args.repeat
    text = report(steps, sizes, startup, repeat, saved["measured"] if args.render else None)
    print(text)
    if args.json:
        raw = {
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "repeat": repeat,
            "sizes": sizes,
            "steps": [s.__dict__ for s in steps],
            "startup": [s.__dict__ for s in startup],
        }
        args.json.write_text(json.dumps(raw, indent=1) + "\n")
    if args.write_docs:
        write_docs(text)
        PLOT.write_text(plot(steps, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
