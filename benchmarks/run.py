"""Time `gitops promote` against the plumbing floor on a synthetic 2,000-app repository.

    python benchmarks/run.py [--apps 2000] [--repeat 5] [--write-docs]

Repositories are generated once and cached under benchmarks/.work/ (keyed by the generator's
source, so editing make_repo.py rebuilds them). Every promotion starts from the same commit:
stg is put back with `git update-ref` before each run. The promotion's tree must equal the
floor's tree, or the benchmark fails: a fast wrong answer is not a result.

`gitops diff` and `gitops plan` are timed on a second repository in which every app's env files
differ, when `gitops --help` lists those subcommands.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: the sibling modules are not a package

import floor  # noqa: E402
import make_repo  # noqa: E402

WORK = HERE / ".work"
DOCS = HERE.parent / "docs" / "benchmarks.md"
START, END = "<!-- results:start (benchmarks/run.py --write-docs) -->", "<!-- results:end -->"


@dataclass
class Row:
    name: str
    seconds: list[float] = field(default_factory=list)
    note: str = ""

    def cells(self) -> str:
        if not self.seconds:
            return f"| {self.name} | – | – | 0 | {self.note} |"
        best, median = (f"{t * 1000:.0f}" for t in (min(self.seconds), statistics.median(self.seconds)))
        return f"| {self.name} | {best} | {median} | {len(self.seconds)} | {self.note} |"


class Skip(Exception):
    """A step that cannot run here (e.g. the subcommand does not exist yet)."""


# ---------------------------------------------------------------------------------------------
# repositories


def cached_repo(spec: make_repo.RepoSpec) -> Path:
    """The generated repository for `spec`, rebuilt when the generator or registry changed."""
    digest = hashlib.sha256(Path(make_repo.__file__).read_bytes() + make_repo.REFERENCE_REGISTRY.read_bytes())
    kind = "alldiffer" if spec.all_env_files_differ else "default"
    key = f"apps{spec.apps}-{kind}-{digest.hexdigest()[:12]}"
    path = WORK / key
    if not (path / ".git").is_dir():
        for stale in WORK.glob(key.rsplit("-", 1)[0] + "-*"):  # built by an older generator
            shutil.rmtree(stale, ignore_errors=True)
        info = make_repo.build_repo(path, spec)
        print(f"generated {path.name} in {info.seconds:.2f}s", file=sys.stderr)
    return path


def rev(repo: Path, name: str) -> str:
    return make_repo.git(repo, "rev-parse", "--verify", name).strip()


def reset_branch(repo: Path, branch: str, commit: str) -> None:
    make_repo.git(repo, "update-ref", f"refs/heads/{branch}", commit)


# ---------------------------------------------------------------------------------------------
# timing


def run(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), cwd=cwd, capture_output=True, check=False)  # noqa: S603


def timed(step: Callable[[], None], repeat: int, before: Callable[[], None] | None = None) -> list[float]:
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return times


def command_step(argv: Sequence[str], cwd: Path) -> Callable[[], None]:
    def step() -> None:
        done = run(argv, cwd)
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip()
            raise Skip(f"`{' '.join(argv)}` exited {done.returncode}: {err[-300:]}")

    return step


def gitops_commands() -> set[str] | None:
    """Subcommands `gitops --help` lists, or None when the CLI does not start."""
    gitops = shutil.which("gitops")
    if gitops is None:
        return None
    done = run([gitops, "--help"], HERE)
    if done.returncode != 0:
        return None
    text = done.stdout.decode(errors="replace")
    return {w for w in ("promote", "diff", "plan", "status") if re.search(rf"^\W*{w}\b", text, re.M)}


# ---------------------------------------------------------------------------------------------
# the benchmark


def bench_promote(repo: Path, repeat: int, commands: set[str] | None) -> list[Row]:
    original = rev(repo, "refs/heads/stg")

    def restore() -> None:
        reset_branch(repo, "stg", original)

    floor_tree = floor.promote(repo, dry_run=True).tree
    rows = [
        Row("floor: git plumbing (in-process)", timed(lambda: _floor(repo), repeat, restore)),
        Row(
            "floor: `python benchmarks/floor.py` (process)",
            timed(
                command_step([sys.executable, str(HERE / "floor.py"), str(repo)], repo),
                repeat,
                restore,
            ),
        ),
    ]
    restore()
    rows.append(
        Row(
            "`python -c pass` (interpreter start-up)",
            timed(command_step([sys.executable, "-c", "pass"], repo), repeat),
        )
    )
    if commands is None:
        note = "gitops CLI not available yet (`gitops --help` fails)"
        rows += [
            Row("`gitops --help`", note=note),
            Row("`gitops promote dev stg --no-push`", note=note),
        ]
        return rows
    rows.append(Row("`gitops --help`", timed(command_step(["gitops", "--help"], repo), repeat)))
    rows.append(_gitops_promote(repo, repeat, commands, restore, floor_tree))
    restore()
    return rows


def _floor(repo: Path) -> None:
    floor.promote(repo)


def _gitops_promote(repo: Path, repeat: int, commands: set[str], restore: Callable[[], None], floor_tree: str) -> Row:
    name = "`gitops promote dev stg --no-push`"
    if "promote" not in commands:
        return Row(name, note="`gitops promote` does not exist yet")
    step = command_step(["gitops", "promote", "dev", "stg", "--no-push"], repo)
    try:
        times = timed(step, repeat, restore)
    except Skip as exc:
        return Row(name, note=f"failed: {exc}")
    tree = rev(repo, "refs/heads/stg^{tree}")
    if tree != floor_tree:
        raise SystemExit(f"gitops promote wrote tree {tree}, the floor {floor_tree}: the rules disagree")
    return Row(name, times, "tree equals the floor's")


def bench_compare(apps: int, repeat: int, commands: set[str] | None) -> list[Row]:
    rows: list[Row] = []
    for sub in ("diff", "plan"):
        name = f"`gitops {sub} dev stg --output json` (every env file differs)"
        if commands is None or sub not in commands:
            rows.append(Row(name, note=f"`gitops {sub}` does not exist yet"))
            continue
        # Built only when needed: this repository is for diff/plan alone.
        repo = cached_repo(make_repo.RepoSpec(apps, all_env_files_differ=True))
        try:
            rows.append(
                Row(
                    name,
                    timed(
                        command_step(["gitops", sub, "dev", "stg", "--output", "json"], repo),
                        repeat,
                    ),
                )
            )
        except Skip as exc:
            rows.append(Row(name, note=f"failed: {exc}"))
    return rows


def report(rows: list[Row], spec: make_repo.RepoSpec, repo: Path, repeat: int) -> str:
    files = make_repo.git(repo, "ls-tree", "-r", "--name-only", "dev").count("\n")
    git_version = make_repo.git(repo, "--version").strip()
    lines = [
        f"Repository: {spec.apps} apps, {files} files on dev; {repeat} runs each, times in ms.",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {git_version}.",
        "",
        "| step | min (ms) | median (ms) | runs | note |",
        "|---|---:|---:|---:|---|",
        *(row.cells() for row in rows),
    ]
    return "\n".join(lines) + "\n"


def write_docs(table: str) -> None:
    """Replace the results between the markers of docs/benchmarks.md; keep the prose around."""
    block = f"{START}\n{table}{END}"
    text = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    DOCS.write_text(head + block + rest.split(END, 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write-docs", action="store_true", help=f"write the table into {DOCS}")
    parser.add_argument("--skip-compare", action="store_true", help="skip the diff/plan repository")
    args = parser.parse_args(argv)
    commands = gitops_commands()
    if commands is None:
        print("note: the gitops CLI does not start yet; timing the floor only", file=sys.stderr)
    spec = make_repo.RepoSpec(args.apps)
    repo = cached_repo(spec)
    rows = bench_promote(repo, args.repeat, commands)
    if not args.skip_compare:
        rows += bench_compare(args.apps, args.repeat, commands)
    table = report(rows, spec, repo, args.repeat)
    print(table)
    if args.write_docs:
        write_docs(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
