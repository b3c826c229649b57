"""Generate a synthetic GitOps repository for benchmarks, with git plumbing only.

The whole history is one `git fast-import` stream (one process, no working tree), so 2,000 apps
(~14,000 files) take seconds. Layout and history:

    environments.yaml                 the reference registry (copied from the project root)
    apps/appNNNN/Chart.yaml, values.yaml, values-{dev,stg,prd}.yaml,
                 templates/deployment.yaml, templates/service.yaml

    root commit (all three branches start here)
    stg, prd: one commit tuning their own env file (values-stg.yaml / values-prd.yaml)
    dev:      one commit tuning values-dev.yaml, then ahead of stg by
              image-tag bumps in values.yaml, a template change, a new app, a removed app.

By default every 10th app's env file is tuned; `--all-env-files-differ` tunes every app's, so
that diff/plan compare a changed env file in every app directory. `--one-change` then promotes
dev into stg (a merge commit with the Promoted-* trailers, stg's own env files kept) and puts
one image-tag bump of app0001's values.yaml on dev: dev is one changed file ahead of stg, the
everyday case whose cost must not grow with the repository.

Usage: python benchmarks/make_repo.py OUTPUT [--apps N] [--all-env-files-differ] [--one-change] [--bare]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_REGISTRY = ROOT / "environments.yaml"
ENVS = ("dev", "stg", "prd")
EPOCH = 1767225600  # 2026-01-01T00:00:00Z: fixed dates give the same commit ids every run
AUTHOR = "Benchmark Generator <bench@example.invalid>"
# Variables that would point git at another repository or index (e.g. when run from a hook).
REDIRECTING = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)


@dataclass(frozen=True)
class RepoSpec:
    apps: int = 2000
    all_env_files_differ: bool = False
    bare: bool = False
    one_change: bool = False  # stg promoted from dev, then one values.yaml bump on dev

    def tuned(self, index: int) -> bool:
        """Whether branch-local tuning touches app `index` (every app, or every 10th)."""
        return self.all_env_files_differ or index % 10 == 0

    @property
    def new_app(self) -> int:
        return self.apps + 1

    @property
    def removed_app(self) -> int:
        return 2  # app0002: removed on dev, so its stg/prd env files become orphans


@dataclass(frozen=True)
class RepoInfo:
    path: Path
    spec: RepoSpec
    heads: dict[str, str]
    seconds: float


# ---------------------------------------------------------------------------------------------
# file contents


def app_name(index: int) -> str:
    return f"app{index:04d}"


def chart_yaml(index: int) -> str:
    return (
        "apiVersion: v2\n"
        f"name: {app_name(index)}\n"
        "description: Synthetic benchmark application\n"
        "type: application\n"
        "version: 0.1.0\n"
        'appVersion: "1.0.0"\n'
    )


def values_yaml(index: int, tag: str = "1.0.0") -> str:
    return (
        "image:\n"
        f"  repository: registry.example.com/team{index % 17}/{app_name(index)}\n"
        f'  tag: "{tag}"\n'
        "  pullPolicy: IfNotPresent\n"
        "replicaCount: 1\n"
        "service:\n"
        "  type: ClusterIP\n"
        "  port: 8080\n"
        "resources:\n"
        "  requests: {cpu: 100m, memory: 128Mi}\n"
        "  limits: {cpu: 500m, memory: 256Mi}\n"
    )


def env_values_yaml(index: int, env: str, tuned: bool = False) -> str:
    replicas = {"dev": 1, "stg": 2, "prd": 3}[env] * (2 if tuned else 1)
    host = f"{app_name(index)}.{env}.example.com" if not tuned else f"{app_name(index)}.{env}.internal.example.com"
    text = (
        f"# {env} settings for {app_name(index)}\n"
        f"replicaCount: {replicas}\n"
        "ingress:\n"
        "  enabled: true\n"
        f"  host: {host}\n"
        "env:\n"
        f"  LOG_LEVEL: {'debug' if env == 'dev' else 'info'}\n"
    )
    return text + ('  FEATURE_TUNED: "true"\n' if tuned else "")


def deployment_yaml(index: int, probe: bool = False) -> str:
    text = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: {{ .Release.Name }}\n"
        f"  labels: {{app: {app_name(index)}}}\n"
        "spec:\n"
        "  replicas: {{ .Values.replicaCount }}\n"
        "  selector:\n"
        f"    matchLabels: {{app: {app_name(index)}}}\n"
        "  template:\n"
        "    metadata:\n"
        f"      labels: {{app: {app_name(index)}}}\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: app\n"
        '          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        "          ports: [{containerPort: 8080}]\n"
    )
    if probe:
        text += "          readinessProbe: {httpGet: {path: /healthz, port: 8080}}\n"
    return text


def service_yaml(index: int) -> str:
    return (
        "apiVersion: v1\n"
        "kind: Service\n"
        "metadata:\n"
        "  name: {{ .Release.Name }}\n"
        "spec:\n"
        "  type: {{ .Values.service.type }}\n"
        f"  selector: {{app: {app_name(index)}}}\n"
        "  ports: [{port: {{ .Values.service.port }}, targetPort: 8080}]\n"
    )


def app_files(index: int) -> Iterator[tuple[str, str]]:
    base = f"apps/{app_name(index)}"
    yield f"{base}/Chart.yaml", chart_yaml(index)
    yield f"{base}/values.yaml", values_yaml(index)
    for env in ENVS:
        yield f"{base}/values-{env}.yaml", env_values_yaml(index, env)
    yield f"{base}/templates/deployment.yaml", deployment_yaml(index)
    yield f"{base}/templates/service.yaml", service_yaml(index)


# ---------------------------------------------------------------------------------------------
# the fast-import stream


class Stream:
    """Collects a fast-import stream as bytes (data lengths are byte counts)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.marks = 0
        self.clock = EPOCH

    def data(self, text: str) -> None:
        raw = text.encode()
        self.parts.append(b"data %d\n" % len(raw) + raw + b"\n")

    def commit(self, branch: str, message: str, parent: int | None, files: list[tuple[str, str | None]]) -> int:
        """Append a commit; a file whose content is None is deleted. Returns its mark."""
        self.marks += 1
        self.clock += 3600
        head = f"commit refs/heads/{branch}\nmark :{self.marks}\n"
        stamp = f"{AUTHOR} {self.clock} +0000"
        self.parts.append(f"{head}author {stamp}\ncommitter {stamp}\n".encode())
        self.data(message)
        if parent is not None:
            self.parts.append(f"from :{parent}\n".encode())
        for path, content in files:
            if content is None:
                self.parts.append(f"D {path}\n".encode())
            else:
                self.parts.append(f"M 100644 inline {path}\n".encode())
                self.data(content)
        return self.marks

    def bytes(self) -> bytes:
        return b"".join(self.parts) + b"done\n"

    def raw(self, text: str) -> None:
        self.parts.append(text.encode())


def build_stream(spec: RepoSpec, registry_text: str) -> bytes:
    stream = Stream()
    indexes = range(1, spec.apps + 1)
    root_files: list[tuple[str, str | None]] = [("environments.yaml", registry_text)]
    root_files += [f for i in indexes for f in app_files(i)]
    root = stream.commit("dev", "Initial import of the GitOps repository\n", None, list(root_files))
    for env in ("stg", "prd"):
        stream.commit(env, f"{env}: tune environment settings\n", root, tuning(spec, env))
    _dev_history(stream, spec, root)
    return stream.bytes()


def tuning(spec: RepoSpec, env: str) -> list[tuple[str, str | None]]:
    return [
        (f"apps/{app_name(i)}/values-{env}.yaml", env_values_yaml(i, env, tuned=True))
        for i in range(1, spec.apps + 1)
        if spec.tuned(i)
    ]


def _dev_history(stream: Stream, spec: RepoSpec, root: int) -> None:
    """dev: its own tuning, then the changes waiting to be promoted to stg."""
    mark = stream.commit("dev", "dev: tune environment settings\n", root, tuning(spec, "dev"))
    bumps = [(f"apps/{app_name(i)}/values.yaml", values_yaml(i, "1.1.0")) for i in range(1, spec.apps + 1, 20)]
    mark = stream.commit("dev", "Bump image tags to 1.1.0\n", mark, list(bumps))
    probes = [
        (f"apps/{app_name(i)}/templates/deployment.yaml", deployment_yaml(i, probe=True))
        for i in range(5, spec.apps + 1, 50)
    ]
    mark = stream.commit("dev", "Add readiness probes\n", mark, list(probes))
    added: list[tuple[str, str | None]] = list(app_files(spec.new_app))
    mark = stream.commit("dev", f"Add {app_name(spec.new_app)}\n", mark, added)
    gone = [(f"apps/{app_name(spec.removed_app)}", None)]  # `D dir` deletes the whole directory
    stream.commit("dev", f"Remove {app_name(spec.removed_app)}\n", mark, list(gone))


def one_change_stream(spec: RepoSpec, heads: dict[str, str], dev_tree: str) -> bytes:
    """stg: a promotion of dev's tip (dev's tree, stg's own tuned env files put back); dev: one bump."""
    stream = Stream()
    stream.clock = EPOCH + 3600 * 100
    message = f"Promote dev {heads['dev'][:7]} to stg\n\nPromoted-From: dev\nPromoted-Commit: {heads['dev']}\n"
    kept = [(p, c) for p, c in tuning(spec, "stg") if f"/{app_name(spec.removed_app)}/" not in p]
    stream.commit("stg", message, None, [])
    stream.raw(f'from {heads["stg"]}\nmerge {heads["dev"]}\nM 040000 {dev_tree} ""\n')
    for path, content in kept:
        stream.raw(f"M 100644 inline {path}\n")
        stream.data(content)
    stream.commit("dev", "Bump app0001 to 1.2.0\n", None, [])
    stream.raw(f"from {heads['dev']}\nM 100644 inline apps/{app_name(1)}/values.yaml\n")
    stream.data(values_yaml(1, "1.2.0"))
    return stream.bytes()


# ---------------------------------------------------------------------------------------------
# running git


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in REDIRECTING}
    done = subprocess.run(  # noqa: S603 - argument list, no shell
        ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", *args],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode()


def build_repo(path: Path, spec: RepoSpec | None = None, registry_text: str | None = None) -> RepoInfo:
    """Create the repository at `path` (which must not exist yet)."""
    spec = spec or RepoSpec()
    started = time.perf_counter()
    if path.exists():
        raise FileExistsError(f"{path} exists; remove it or choose another output path")
    text = registry_text if registry_text is not None else REFERENCE_REGISTRY.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    git(path.parent, "init", "--quiet", *(["--bare"] if spec.bare else []), "--", str(path))
    git(path, "fast-import", "--quiet", "--done", stdin=build_stream(spec, text))
    # HEAD on dev: stg, the branch promotions move, is never the checked-out one.
    git(path, "symbolic-ref", "HEAD", "refs/heads/dev")
    if not spec.bare:
        git(path, "read-tree", "--reset", "-u", "dev")  # a usable clone: dev's files on disk
    heads = {env: git(path, "rev-parse", "--verify", f"refs/heads/{env}").strip() for env in ENVS}
    if spec.one_change:
        dev_tree = git(path, "rev-parse", "--verify", "refs/heads/dev^{tree}").strip()
        git(path, "fast-import", "--quiet", "--done", stdin=one_change_stream(spec, heads, dev_tree))
        if not spec.bare:
            git(path, "read-tree", "--reset", "-u", "dev")
        heads = {env: git(path, "rev-parse", "--verify", f"refs/heads/{env}").strip() for env in ENVS}
    return RepoInfo(path, spec, heads, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="directory to create")
    parser.add_argument("--apps", type=int, default=2000, help="number of apps (default 2000)")
    parser.add_argument("--all-env-files-differ", action="store_true", help="tune every app on every branch")
    parser.add_argument("--bare", action="store_true", help="make a bare repository")
    parser.add_argument("--one-change", action="store_true", help="promote dev to stg, then one change on dev")
    args = parser.parse_args(argv)
    spec = RepoSpec(args.apps, args.all_env_files_differ, args.bare, args.one_change)
    info = build_repo(args.output, spec)
    files = int(git(info.path, "ls-tree", "-r", "--name-only", "dev").count("\n"))
    print(f"{info.path}: {files} files on dev, built in {info.seconds:.2f}s")
    for env, sha in info.heads.items():
        print(f"  {env} {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
