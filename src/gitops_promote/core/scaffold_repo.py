"""The files `gitops init` writes: pure functions from a few choices to repository paths -> text.

Layout (docs/repository-layout.md): the registry, one Helm chart per app under `apps/<app>/`,
and under `argocd/<env>/` each environment's Argo CD manifests: a root Application tracking the
environment's branch (applied once per cluster) and, in `argocd/<env>/apps/`, one child
Application per app (and in staging the pull-request preview ApplicationSet). `argocd/{env}/**`
is env-specific in the generated registry, so a promotion never overwrites another branch's
Argo CD manifests; every branch carries every environment's directory, and validation checks
each file against its owner's branch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import resources

from gitops_promote.core.charts import chart_files
from gitops_promote.core.forge import parse_repo_url
from gitops_promote.core.registry import Registry, parse_registry

PLACEHOLDER_REPO_URL = "https://git.example.com/org/gitops.git"
ARGOCD_PATTERN = "argocd/{env}/**"
DEFAULT_APPS = ("web", "api")
PREVIEW_ENV = "stg"  # staging is where developers showcase work: pull-request previews live there
PREVIEW_NAMESPACE = "preview-pr-{{ .number }}"
CLUSTER = "https://kubernetes.default.svc"
ARGOCD_NAMESPACE = "argocd"
APP_IMAGE = "docker.io/nginxinc/nginx-unprivileged"  # runs as non-root on 8080: a healthy first deploy
APP_TAG = "1.27-alpine"
APP_PORT = 8080
# DNS-1123 label, short enough that "<app>-pr-<number>" (preview Application names) stays valid.
APP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def app_name_problem(name: str) -> str | None:
    if APP_NAME.match(name):
        return None
    return "must be 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit"


# ---- registry ------------------------------------------------------------------------------


def registry_text() -> str:
    """The reference registry plus the env-owned Argo CD directory pattern."""
    text = resources.files("gitops_promote.data").joinpath("environments.yaml").read_text(encoding="utf-8")
    # promotion.env_specific is the file's last list; append to it and check the result.
    item = f'    - "{ARGOCD_PATTERN}"'.ljust(36)
    text = text.rstrip("\n") + f"\n{item}# each environment's Argo CD manifests (README.md)\n"
    registry = parse_registry(text)
    if ARGOCD_PATTERN not in registry.env_specific:
        raise AssertionError("the reference registry no longer ends with promotion.env_specific")
    return text


# ---- repository URL and the pull-request generator ------------------------------------------


def pull_request_generator(repo_url: str) -> str:
    """The `pullRequest:` generator body for the repository's forge (indented 14 spaces)."""
    where = parse_repo_url(repo_url)
    pad = " " * 14
    if where and where.host == "github.com":
        body = [
            "github:",
            f"  owner: {scalar(where.owner)}",
            f"  repo: {scalar(where.name)}",
            "  # tokenRef: {secretName: github-token, key: token}   # private repositories, rate limits",
        ]
    elif where and "gitlab" in where.host:
        body = [
            "gitlab:",
            f"  api: {scalar(f'https://{where.host}/')}",
            f"  project: {scalar(f'{where.owner}/{where.name}')}",
            "  pullRequestState: opened",
            "  # tokenRef: {secretName: gitlab-token, key: token}",
        ]
    else:
        owner, name = (where.owner, where.name) if where else ("org", "gitops")
        api = f"https://{where.host}/" if where else "https://git.example.com/"
        body = [
            "# CHANGE ME: the forge that hosts this repository. Gitea shown; Argo CD also offers",
            "# github: {owner, repo}, gitlab: {project, api}, bitbucketServer: {api, project, repo},",
            "# bitbucket: {owner, repositorySlug} and azuredevops: {organization, project, repository}.",
            "gitea:",
            f"  api: {scalar(api)}",
            f"  owner: {scalar(owner)}",
            f"  repo: {scalar(name)}",
            "  # tokenRef: {secretName: gitea-token, key: token}",
        ]
    return "\n".join(pad + line for line in body) + "\n"


_PLAIN = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9._~/@+%-]*(?::[A-Za-z0-9/._~@+%-]+)*$")


def scalar(value: str) -> str:
    """A YAML scalar for `value`: plain when unambiguous, else double-quoted (JSON is valid YAML)."""
    reserved = value.lower() in ("true", "false", "yes", "no", "on", "off", "null", "y", "n", "~")
    if _PLAIN.match(value) and not reserved and not re.fullmatch(r"[0-9.eE+-]+", value):
        return value
    return json.dumps(value)


# ---- Argo CD manifests ---------------------------------------------------------------------


def _repo_url_line(repo_url: str, placeholder: bool) -> str:
    note = "  # CHANGE ME: the URL Argo CD clones (see README.md)" if placeholder else ""
    return f"repoURL: {scalar(repo_url)}{note}"


def root_application(env: str, branch: str, repo_url: str, placeholder: bool) -> str:
    return f"""\
# Root Application ("app of apps") of the {env} cluster's Argo CD. It tracks branch {branch}
# and creates everything in argocd/{env}/apps/. Bootstrap the {env} cluster once with:
#   kubectl apply -n {ARGOCD_NAMESPACE} -f argocd/{env}/root.yaml
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root-{env}
  namespace: {ARGOCD_NAMESPACE}
spec:
  project: default
  source:
    {_repo_url_line(repo_url, placeholder)}
    targetRevision: {scalar(branch)}
    path: argocd/{env}/apps
  destination:
    server: {CLUSTER}
    namespace: {ARGOCD_NAMESPACE}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"""


def child_application(app: str, env: str, branch: str, repo_url: str, placeholder: bool) -> str:
    return f"""\
# {app} in {env}: the chart apps/{app} from branch {branch}, with values-{env}.yaml over values.yaml.
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {app}
  namespace: {ARGOCD_NAMESPACE}
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    {_repo_url_line(repo_url, placeholder)}
    targetRevision: {scalar(branch)}
    path: apps/{app}
    helm:
      releaseName: {app}
      valueFiles:
        - values.yaml
        - values-{env}.yaml
  destination:
    server: {CLUSTER}
    namespace: {app}
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
"""


def preview_applicationset(env: str, base_branch: str, repo_url: str, placeholder: bool) -> str:
    # The second generator lists the app directories *at the pull request's head commit*
    # (matrix generators may use the first one's parameters), so a pull request that adds an
    # app previews it too, and this file never needs editing when apps come and go.
    return f"""\
# Pull-request previews in {env}: every open pull request into {base_branch} gets its own
# namespace (preview-pr-<number>) running each app of apps/ at the pull request's head
# commit, with {env}'s values. Closing the pull request deletes the preview.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: pr-previews
  namespace: {ARGOCD_NAMESPACE}
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - matrix:
        generators:
          - pullRequest:
{pull_request_generator(repo_url)}              filters:
                - targetBranchMatch: {scalar(f"^{re.escape(base_branch)}$")}
              requeueAfterSeconds: 300
          - git:
              {_repo_url_line(repo_url, placeholder)}
              revision: "{{{{ .head_sha }}}}"
              directories:
                - path: apps/*
  template:
    metadata:
      name: "{{{{ .path.basename }}}}-pr-{{{{ .number }}}}"
      labels:
        gitops-promote/preview: "true"
    spec:
      project: default
      source:
        {_repo_url_line(repo_url, placeholder)}
        targetRevision: "{{{{ .head_sha }}}}"
        path: "{{{{ .path.path }}}}"
        helm:
          releaseName: "{{{{ .path.basename }}}}"
          valueFiles:
            - values.yaml
            - values-{env}.yaml
      destination:
        server: {CLUSTER}
        namespace: "{PREVIEW_NAMESPACE}"
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
        syncOptions:
          - CreateNamespace=true
"""


def argocd_files(registry: Registry, apps: Sequence[str], repo_url: str, placeholder: bool) -> dict[str, str]:
    files: dict[str, str] = {}
    first = registry.ordered()[0]
    for env in registry.ordered():
        files[f"argocd/{env.codename}/root.yaml"] = root_application(env.codename, env.branch, repo_url, placeholder)
        for app in apps:
            files[f"argocd/{env.codename}/apps/{app}.yaml"] = child_application(
                app, env.codename, env.branch, repo_url, placeholder
            )
        if env.codename == PREVIEW_ENV:
            files[f"argocd/{env.codename}/apps/pr-previews.yaml"] = preview_applicationset(
                env.codename, first.branch, repo_url, placeholder
            )
    return files


# ---- README ---------------------------------------------------------------------------------


def readme(registry: Registry, apps: Sequence[str], repo_url: str, placeholder: bool) -> str:
    envs = registry.ordered()
    order = " → ".join(e.codename for e in envs)
    bootstrap = "\n".join(
        f"# {e.name} cluster (tracks branch {e.branch}):\n"
        f"git show {e.branch}:argocd/{e.codename}/root.yaml | kubectl apply -n {ARGOCD_NAMESPACE} -f -"
        for e in envs
    )
    steps = "\n".join(f"gitops promote {a} {b}" for a, b in registry.allowed_steps())
    plan = "\n".join(f"gitops plan {a} {b}   # what the promotion would do" for a, b in registry.allowed_steps()[:1])
    url_note = (
        f"\n**Change the repository URL first.** The Argo CD manifests use the placeholder\n"
        f"`{repo_url}`. `argocd/<env>/` belongs to `<env>`'s branch (a promotion does not carry it),\n"
        f"so replace the URL on every branch, or, before anything else happened here, create the\n"
        f"repository again with `gitops init --repo-url URL` (or `--remote URL`).\n"
        if placeholder
        else ""
    )
    app_list = ", ".join(f"`{a}`" for a in apps)
    return f"""\
# GitOps repository

Each environment is a branch: {", ".join(f"`{e.branch}` ({e.name})" for e in envs)}.
Each environment's Argo CD tracks its own branch. Changes travel {order}, one step at a time,
with [gitops-promote](https://github.com/gitops-promote/gitops-promote).
{url_note}
## Layout

- `environments.yaml`: the environments, their branches, the promotion order and the paths each
  branch owns (never overwritten by a promotion).
- `apps/<app>/`: one Helm chart per app ({app_list}); `values.yaml` is shared,
  `values-<env>.yaml` belongs to its environment's branch.
- `argocd/<env>/root.yaml`: the root Application of `<env>`'s Argo CD (app of apps).
- `argocd/<env>/apps/`: one Application per app, tracking `<env>`'s branch with
  `values.yaml` + `values-<env>.yaml`. In `{PREVIEW_ENV}`, `pr-previews.yaml` deploys every open pull
  request into `{envs[0].branch}` as a preview in namespace `preview-pr-<number>`.

Every branch holds every environment's `argocd/<env>/` directory, but each environment's
directory is owned by its branch (`argocd/{{env}}/**` in `environments.yaml`): what Argo CD
deploys in `{envs[-1].codename}` is `argocd/{envs[-1].codename}/` on branch `{envs[-1].branch}`.

## Bootstrap each cluster

Install Argo CD in the cluster (namespace `{ARGOCD_NAMESPACE}`), give it read access to this
repository, then apply that environment's root Application once, from its own branch:

```sh
{bootstrap}
```

The root Application creates the app Applications; from then on Argo CD follows the branch.

## Change and promote

Work happens on `{envs[0].branch}` (pull requests into `{envs[0].branch}` get a preview in {PREVIEW_ENV}). Then:

```sh
gitops validate            # every environment branch: schemas, branches tracked, values
{plan}
{steps}
```

Settings for one environment go into `apps/<app>/values-<env>.yaml` (or `argocd/<env>/`) on
that environment's branch; a promotion keeps them. A new app needs its chart, its
`values-<env>.yaml` files and an Application in every `argocd/<env>/apps/`, committed on
`{envs[0].branch}`; promotion seeds the new env files into the next branch for review.
"""


# ---- everything -----------------------------------------------------------------------------


def repository_files(apps: Sequence[str], repo_url: str, placeholder: bool) -> dict[str, str]:
    """Every file of a new GitOps repository (the same tree on every environment branch)."""
    text = registry_text()
    registry = parse_registry(text)
    envs = tuple(e.codename for e in registry.ordered())
    files: dict[str, str] = {"environments.yaml": text, "README.md": readme(registry, apps, repo_url, placeholder)}
    for app in apps:
        files |= chart_files(app, image=APP_IMAGE, tag=APP_TAG, port=APP_PORT, envs=envs)
    files |= argocd_files(registry, apps, repo_url, placeholder)
    return files
