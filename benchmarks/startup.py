"""Start-up cost: `python -c pass`, `gitops --help`, and the imports of a promotion.

    python benchmarks/startup.py [--runs 20] [--json FILE]

Figures (medians and minima of `--runs` fresh processes, the steps alternating run by run so
that each is measured under the same load; this machine is shared):

    python -c pass      wall time of an interpreter that does nothing: the floor
    gitops --help       wall time of the console script printing its help
    --help's imports    seconds spent importing the modules `gitops --help` loads
    promote's imports   the same for `gitops promote dev stg --no-push` in a small repository

The two import figures are measured alike: the modules a real run loaded (its `sys.modules`
at exit, in load order) are imported again in a fresh interpreter, timed in-process from
the first import to the last, so interpreter start-up is in neither. Issue 11's targets:
`gitops --help` ≤ 0.1 s, promote's imports ≤ 1.3 × --help's.

Bytecode: an installed package has its `.pyc` files (pip compiles them). A development
environment that sets PYTHONDONTWRITEBYTECODE would compile every module of the package on
every run, which is not what users pay; `environment()` lets Python cache bytecode under a
private PYTHONPYCACHEPREFIX instead (nothing is written into the source tree), and one
warm-up run of each step fills that cache before timing. benchmarks/run.py takes its
start-up figures from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: the sibling modules are not a package

import make_repo  # noqa: E402

PROMOTE = ["promote", "dev", "stg", "--no-push"]
RUNS = 20
HELP_IMPORTS, PROMOTE_IMPORTS = "--help's imports", "promote's imports"
STEPS = ("python -c pass", "gitops --help", HELP_IMPORTS, PROMOTE_IMPORTS)
HELP_TARGET_S = 0.1
IMPORT_RATIO_TARGET = 1.3

# Runs the CLI as the console script does and, at exit, writes the modules it loaded.
_RECORD = (
    "import atexit, sys\n"
    "out, sys.argv = sys.argv[1], ['gitops', *sys.argv[2:]]\n"
    "before = set(sys.modules)\n"
    "atexit.register(lambda: open(out, 'w').write('\\n'.join(m for m in sys.modules if m not in before)))\n"
    "from gitops_promote.cli import main\n"
    "main()\n"
)
# Imports the listed modules in order and prints how long that took; a module that is
# already loaded (by the interpreter's own start-up) costs nothing and is skipped.
_REIMPORT = (
    "import importlib, sys, time\n"
    "names = open(sys.argv[1]).read().split()\n"
    "started = time.perf_counter()\n"
    "for name in names:\n"
    "    if name not in sys.modules:\n"
    "        try:\n"
    "            importlib.import_module(name)\n"
    "        except ImportError:\n"
    "            pass  # an alias a package put into sys.modules itself (os.path is one)\n"
    "print(time.perf_counter() - started)\n"
)


def gitops_argv() -> list[str]:
    """The console script when it is on PATH, else the module (as benchmarks/run.py runs it)."""
    gitops = shutil.which("gitops")
    return [gitops] if gitops else [sys.executable, "-m", "gitops_promote"]


def environment(cache_dir: Path) -> dict[str, str]:
    """The inherited environment, with bytecode cached (under `cache_dir`) as an install has it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    return env


def loaded_modules(args: Sequence[str], cwd: Path, env: dict[str, str], out: Path) -> list[str]:
    """The modules a `gitops ARGS` run loads, in load order (besides the interpreter's own)."""
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", _RECORD, str(out), *args], cwd=cwd, env=env, capture_output=True, check=False
    )
    return out.read_text().split()


def small_repo(path: Path) -> Path:
    """dev one changed file ahead of stg, 20 apps: the modules a promotion loads, not its size."""
    make_repo.build_repo(path, make_repo.RepoSpec(apps=20, bare=True, one_change=True))
    return path


def _wall(argv: Sequence[str], env: dict[str, str]) -> Callable[[], float]:
    def once() -> float:
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)  # noqa: S603
        return time.perf_counter() - started

    return once


def _imports(names_file: Path, env: dict[str, str]) -> Callable[[], float]:
    def once() -> float:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _REIMPORT, str(names_file)], env=env, capture_output=True, check=True, text=True
        )
        return float(done.stdout)

    return once


def measure(runs: int = RUNS, cache_dir: Path | None = None) -> dict[str, list[float]]:
    """Seconds per step (STEPS), `runs` each, the steps alternating, after one warm-up round.

    `cache_dir` keeps the bytecode cache between invocations (default: a temporary one)."""
    with tempfile.TemporaryDirectory(prefix="gitops-startup-") as tmp:
        work = Path(tmp)
        env = environment(cache_dir or work / "pycache")
        repo = small_repo(work / "repo.git")
        stg = make_repo.git(repo, "rev-parse", "--verify", "refs/heads/stg").strip()
        lists = {"help": work / "help-modules.txt", "promote": work / "promote-modules.txt"}
        loaded_modules(["--help"], HERE, env, lists["help"])
        loaded_modules(["-C", str(repo), *PROMOTE], HERE, env, lists["promote"])
        make_repo.git(repo, "update-ref", "refs/heads/stg", stg)  # the promotion is undone
        steps = dict(
            zip(
                STEPS,
                (
                    _wall([sys.executable, "-c", "pass"], env),
                    _wall([*gitops_argv(), "--help"], env),
                    _imports(lists["help"], env),
                    _imports(lists["promote"], env),
                ),
                strict=True,
            )
        )
        for step in steps.values():
            step()  # warm-up: fills the bytecode cache
        seconds: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(runs):
            for name, step in steps.items():
                seconds[name].append(step())
    return seconds


def verdicts(median: dict[str, float]) -> list[str]:
    """Issue 11's two start-up targets, met or not (markdown)."""
    lines = []
    if "gitops --help" in median:
        met = median["gitops --help"] <= HELP_TARGET_S
        lines.append(f"`gitops --help` target ≤ {HELP_TARGET_S} s: {'met' if met else '**not met**'}.")
    if HELP_IMPORTS in median and PROMOTE_IMPORTS in median:
        ratio = median[PROMOTE_IMPORTS] / median[HELP_IMPORTS]
        met = ratio <= IMPORT_RATIO_TARGET
        lines.append(
            f"promote's imports = {ratio:.2f} × `--help`'s, target ≤ {IMPORT_RATIO_TARGET}: "
            f"{'met' if met else '**not met**'}."
        )
    return lines


def report(seconds: dict[str, list[float]]) -> str:
    median = {name: statistics.median(values) for name, values in seconds.items()}
    lines = [
        f"{name:<20} median {median[name] * 1000:6.1f} ms   min {min(values) * 1000:6.1f} ms"
        for name, values in seconds.items()
    ]
    return "\n".join([*lines, *verdicts(median)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--json", type=Path, help="also save the raw seconds here")
    args = parser.parse_args(argv)
    seconds = measure(args.runs)
    print(report(seconds))
    if args.json:
        args.json.write_text(json.dumps(seconds, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
