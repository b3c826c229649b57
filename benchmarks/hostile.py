"""Time `gitops` on the hostile sizes of issue 12 beside a git floor measured in the same run.

    python benchmarks/hostile.py [--repeat 3] [--keys 300000] [--files 100000] [--only diff|validate]
                                 [--all-changed] [--before DIR]

Self-contained: builds two repositories with `git fast-import` in a temporary directory, runs
the CLI from this checkout (`python -m gitops_promote`, PYTHONPATH=src) and prints a table.
`--before DIR` also times the sources under DIR in the same rounds, e.g. the code before a
change: `git archive COMMIT src | tar -x -C /tmp/before` then `--before /tmp/before/src`.

  diff-300k      apps/big/values.yaml with KEYS top-level keys on stg; dev changes one of
                 them. `gitops diff dev stg -o FORMAT --no-fetch` for every format, beside
                 `git diff stg dev` of the same two commits (the floor: git reads both blobs);
                 and `gitops validate` and `gitops parity`, which read the same file.
                 `--all-changed`: dev changes every value (300,000 changes to render).
  validate-100k  apps/many/templates/ holds FILES small manifests, one directory, on each
                 branch. `gitops validate --no-fetch` (all three branches) beside
                 `git ls-tree -r` of the three branches + `git cat-file --batch` of each
                 of their blobs once.

Each round runs every step once, alternating, so a figure and its floor share the machine's
load; the table shows the median of the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("text", "brief", "json", "markdown", "github")
REGISTRY = """\
environments:
  - {codename: dev, name: Development}
  - {codename: stg, name: Staging}
  - {codename: prd, name: Production}
promotion:
  order: [dev, stg, prd]
  env_specific:
    - "apps/*/values-{env}.yaml"
"""
CHART = "apiVersion: v2\nname: {app}\nversion: 0.1.0\n"
MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
data:
  index: "{i}"
"""


SOURCES = {"": ROOT / "src"}  # label -> sources; --before adds the code before a change


def environment(src: Path = ROOT / "src") -> dict[str, str]:
    """No user configuration, the sources under test first, a fixed identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITOPS_"))}
    env |= {
        "PYTHONPATH": str(src),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        "NO_COLOR": "1",
    }
    return env


def run(
    argv: Sequence[str], stdin: bytes | None = None, check: bool = True, src: Path = ROOT / "src"
) -> subprocess.CompletedProcess[bytes]:
    """Our own argument lists only (no shell), in the clean environment above."""
    return subprocess.run(argv, input=stdin, capture_output=True, env=environment(src), check=check)  # noqa: S603


def _blob(path: str, data: bytes) -> bytes:
    return b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(data) + data + b"\n"


def _commit(ref: str, files: dict[str, bytes], parent: str | None, mark: int) -> bytes:
    message = f"{ref} {mark}".encode()
    out = [
        b"commit refs/heads/" + ref.encode() + b"\n",
        b"mark :%d\n" % mark,
        b"committer Bench <bench@example.invalid> 1700000000 +0000\n",
        b"data %d\n" % len(message) + message + b"\n",
    ]
    if parent:
        out.append(b"from " + parent.encode() + b"\n")
    out += [_blob(p, d) for p, d in files.items()]
    return b"".join(out) + b"\n"


def make_repo(path: Path, base: dict[str, bytes], dev_change: dict[str, bytes]) -> None:
    """stg and prd at `base`; dev one commit ahead with `dev_change`."""
    run(["git", "init", "--quiet", "--bare", str(path)])
    stream = _commit("stg", base, None, 1)
    stream += b"reset refs/heads/prd\nfrom :1\n\n"
    stream += _commit("dev", dev_change, ":1", 2)
    run(["git", "-C", str(path), "fast-import", "--quiet"], stream)


def values(keys: int, changed: int | None = None, every: bool = False) -> bytes:
    """`k0: 0` ...; the value of key `changed` (or, with `every`, of every key) gets a `1`."""
    lines = [f"k{i}: {i}{'1' if every or i == changed else ''}\n" for i in range(keys)]
    return "".join(lines).encode()


def diff_repo(work: Path, keys: int, every: bool = False) -> Path:
    path = work / "diff.git"
    base = {
        "environments.yaml": REGISTRY.encode(),
        "apps/big/Chart.yaml": CHART.format(app="big").encode(),
        "apps/big/values.yaml": values(keys),
    }
    make_repo(path, base, {"apps/big/values.yaml": values(keys, changed=keys // 2, every=every)})
    return path


def validate_repo(work: Path, files: int) -> Path:
    path = work / "validate.git"
    base = {"environments.yaml": REGISTRY.encode(), "apps/many/Chart.yaml": CHART.format(app="many").encode()}
    base |= {f"apps/many/templates/cm-{i:06d}.yaml": MANIFEST.format(i=i).encode() for i in range(files)}
    make_repo(path, base, {"apps/many/templates/cm-000000.yaml": MANIFEST.format(i="changed").encode()})
    return path


def gitops(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gitops_promote", "-C", str(repo), *args]


def timed(argv: Sequence[str], ok: Sequence[int] = (0,), expect: bytes = b"", src: Path = ROOT / "src") -> float:
    """Wall time of one run; it must exit with one of `ok` and print `expect` (the work was done)."""
    start = time.perf_counter()
    proc = run(argv, check=False, src=src)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok or expect not in proc.stdout:
        tail = (proc.stdout[-1000:] + proc.stderr[-2000:]).decode(errors="replace")
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}, expected {expect!r} in stdout\n{tail}")
    return elapsed


def _cat_all(repo: Path) -> float:
    """The validate floor: list the three trees and read each of their blobs once, in one batch."""
    start = time.perf_counter()
    shas: set[bytes] = set()
    for branch in ("dev", "stg", "prd"):
        listing = run(["git", "-C", str(repo), "ls-tree", "-r", "-z", f"refs/heads/{branch}"]).stdout
        shas.update(line.split(b"\t", 1)[0].split()[2] for line in listing.split(b"\0") if line)
    run(["git", "-C", str(repo), "cat-file", "--batch"], b"\n".join(shas) + b"\n")
    return time.perf_counter() - start


def steps(work: Path, args: argparse.Namespace) -> dict[str, Callable[[], float]]:
    out: dict[str, Callable[[], float]] = {}

    def add(label: str, argv: list[str], ok: Sequence[int] = (0,), expect: bytes = b"") -> None:
        for tag, src in SOURCES.items():
            out[f"{label}{tag}"] = lambda src=src: timed(argv, ok, expect, src)

    if args.only in (None, "diff"):
        repo = diff_repo(work, args.keys, args.all_changed)
        label = f"{args.keys:,} keys{' (all changed)' if args.all_changed else ''}:"
        key = f"k{99 if args.all_changed else args.keys // 2}".encode()  # markdown shows 100 changes
        floor = ["git", "-C", str(repo), "diff", "stg", "dev"]
        out[f"{label} floor git diff stg dev"] = lambda: timed(floor, expect=key)
        for fmt in FORMATS:
            shown = b"change" if fmt == "brief" else key  # brief names files, not keys
            argv = gitops(repo, "diff", "dev", "stg", "--no-fetch", "-o", fmt)
            add(f"{label} gitops diff -o {fmt}", argv, expect=shown)
        add(f"{label} gitops validate", gitops(repo, "validate", "--no-fetch"), (0, 1), b"dev")
        add(f"{label} gitops parity", gitops(repo, "parity", "--no-fetch"), (0, 1), b"stg")
    if args.only in (None, "validate"):
        repo = validate_repo(work, args.files)
        label = f"{args.files:,} files:"
        out[f"{label} floor ls-tree + cat-file"] = lambda: _cat_all(repo)
        add(f"{label} gitops validate", gitops(repo, "validate", "--no-fetch"), (0, 1), b"dev")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", type=int, default=300_000)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--only", choices=("diff", "validate"))
    parser.add_argument("--all-changed", action="store_true", help="dev changes every key, not one")
    parser.add_argument("--before", type=Path, help="also time the gitops_promote package under this directory")
    args = parser.parse_args(argv)
    if args.before:
        SOURCES[" (before)"] = args.before.resolve()
    with tempfile.TemporaryDirectory(prefix="gitops-hostile-") as tmp:
        build = time.perf_counter()
        todo = steps(Path(tmp), args)
        print(f"repositories built in {time.perf_counter() - build:.1f} s", file=sys.stderr)
        times: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(args.repeat):
            for name, step in todo.items():
                times[name].append(step())
    width = max(len(name) for name in times)
    print(f"| {'step'.ljust(width)} | median s | min s |")
    print(f"| {'-' * width} | -------: | ----: |")
    for name, runs in times.items():
        print(f"| {name.ljust(width)} | {statistics.median(runs):8.2f} | {min(runs):5.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
