"""`gitops demo`: a throwaway GitOps repository, its plan, and a real dev → stg promotion.

The repository is built with git plumbing (no checkout is involved in making its history);
at the end `dev` is checked out so that the user can look around with ordinary git commands.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from gitops_promote.adapters.git import Repository, git_env
from gitops_promote.adapters.scaffold import commit_changes, commit_files, set_branch
from gitops_promote.commands._engine import PromotionRequest
from gitops_promote.core.charts import ENV_VALUES, chart_files
from gitops_promote.errors import UsageError
from gitops_promote.results.demo import DemoResult
from gitops_promote.results.plan import PlanResult
from gitops_promote.results.promote import PromoteResult

AUTHOR = {"GIT_AUTHOR_NAME": "Demo Developer", "GIT_AUTHOR_EMAIL": "dev@example.com"}


# The two commands the demo shows, handed in by the CLI (commands never import each other).
PlanStep = Callable[[Path, PromotionRequest], PlanResult]
PromoteStep = Callable[[Path, PromotionRequest], PromoteResult]


def run(path: Path | None, plan: PlanStep, promote: PromoteStep) -> DemoResult:
    """A new repository, then `plan dev stg` and `promote dev stg` in it, as a user runs them."""
    target = _prepare_directory(path)
    _init(target)
    with Repository(target) as repo:
        build_history(repo)
    request = PromotionRequest("dev", "stg")
    preview = plan(target, request)
    promotion = promote(target, request)
    _git(target, "checkout", "--quiet", "dev")
    return DemoResult(target, preview, promotion)


def _prepare_directory(path: Path | None) -> Path:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="gitops-demo-"))
    if path.exists() and any(path.iterdir()):
        raise UsageError(f"{path} is not empty", hint="give a new or empty directory, or omit PATH")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=git_env())  # noqa: S603


def _init(path: Path) -> None:
    _git(path, "init", "--quiet", "--initial-branch=dev")
    # The demo repository records its own identity, so it works on a machine without one.
    _git(path, "config", "user.name", "gitops demo")
    _git(path, "config", "user.email", "demo@gitops-promote.invalid")


def registry_text() -> str:
    return resources.files("gitops_promote.data").joinpath("environments.yaml").read_text()


def build_history(repo: Repository) -> None:
    """dev, stg and prd from one root; each tunes its env files; dev runs ahead with a new app."""
    files: dict[str, str] = {"environments.yaml": registry_text(), "README.md": "# Demo GitOps repository\n"}
    files |= chart_files("frontend", image="ghcr.io/example/frontend", tag="2.7.1", port=8080)
    files |= chart_files("api", image="ghcr.io/example/api", tag="1.3.0", port=9000)
    root = commit_files(repo, files, [], "Initial GitOps repository: frontend and api")
    stg = commit_changes(repo, root, {
        "apps/api/values-stg.yaml": ENV_VALUES["stg"] + "ingress:\n  host: api.stg.example.com\n",
        "apps/frontend/values-stg.yaml": ENV_VALUES["stg"] + "ingress:\n  host: www.stg.example.com\n",
    }, "stg: hostnames for staging")  # fmt: skip
    prd = commit_changes(repo, root, {
        "apps/api/values-prd.yaml": ENV_VALUES["prd"] + "ingress:\n  host: api.example.com\n",
        "apps/frontend/values-prd.yaml": ENV_VALUES["prd"] + "ingress:\n  host: www.example.com\n",
    }, "prd: hostnames and capacity for production")  # fmt: skip
    dev = commit_changes(repo, root, {
        "apps/api/values.yaml": files["apps/api/values.yaml"].replace('"1.3.0"', '"1.4.0"'),
        "apps/api/Chart.yaml": files["apps/api/Chart.yaml"].replace('"1.3.0"', '"1.4.0"'),
        # 1.4.0 needs a new setting: prepared upstream for every environment (plan warns about it)
        "apps/api/values-stg.yaml": ENV_VALUES["stg"] + "database:\n  poolSize: 10\n",
        "apps/api/values-prd.yaml": ENV_VALUES["prd"] + "database:\n  poolSize: 20\n",
    }, "api: release 1.4.0")  # fmt: skip
    probe = "          readinessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n"
    deployment = files["apps/frontend/templates/deployment.yaml"]
    with_probe = deployment.replace("          resources:\n", probe + "          resources:\n")
    probed = {"apps/frontend/templates/deployment.yaml": with_probe}
    dev = commit_changes(repo, dev, probed, "frontend: readiness probe")
    worker = chart_files("worker", image="ghcr.io/example/worker", tag="0.1.0", port=9100)
    dev = commit_changes(repo, dev, dict(worker), "worker: new app, with settings prepared for every environment")
    dev = commit_changes(repo, dev, {
        "apps/api/values-dev.yaml": ENV_VALUES["dev"] + "featureFlags:\n  newCheckout: true\n",
    }, "dev: try the new checkout")  # fmt: skip
    for branch, commit in (("dev", dev), ("stg", stg), ("prd", prd)):
        set_branch(repo, branch, commit)
