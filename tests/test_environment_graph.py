"""A graph of environments: `promotion.order: [dev, stg, [prd-eu, prd-us]]` (docs/environment-graph.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GitopsRepo, init_repo, run_cli

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import commit_files, set_branch
from gitops_promote.core.charts import chart_files
from gitops_promote.core.registry import parse_registry
from gitops_promote.core.scaffold_repo import graph_registry_text
from gitops_promote.errors import ConfigError

FIVE = (("dev",), ("stg",), ("qa",), ("prd-eu", "prd-us"))
NAMES = ("dev", "stg", "qa", "prd-eu", "prd-us")

GRAPH = """\
environments:
  - codename: dev
  - codename: stg
  - codename: prd-eu
  - codename: prd-us
promotion:
  order: [dev, stg, [prd-eu, prd-us]]
  env_specific: ["apps/*/values-{env}.yaml"]
"""


def make_graph_repo(path: Path, positions: tuple[tuple[str, ...], ...] = FIVE) -> GitopsRepo:
    envs = tuple(e for group in positions for e in group)
    files = {"environments.yaml": graph_registry_text(positions)}
    files |= chart_files("api", image="ghcr.io/example/api", tag="1.0.0", envs=envs)
    files |= chart_files("web", image="ghcr.io/example/web", tag="2.0.0", envs=envs)
    init_repo(path)
    with Repository(path) as repo:
        root = commit_files(repo, files, [], "initial")
        for env in envs:
            set_branch(repo, env, root)
    return GitopsRepo(path)


def test_a_group_is_a_position_fed_by_the_upstream_before_it() -> None:
    registry = parse_registry(GRAPH)
    assert registry.positions == (("dev",), ("stg",), ("prd-eu", "prd-us"))
    assert registry.order == ("dev", "stg", "prd-eu", "prd-us")
    assert registry.allowed_steps() == [("dev", "stg"), ("stg", "prd-eu"), ("stg", "prd-us")]
    assert [e.codename for e in registry.next_environments("stg")] == ["prd-eu", "prd-us"]
    assert registry.next_environments("prd-us") == ()
    assert [e.codename for e in registry.upstream_of("prd-us")] == ["stg"]
    assert registry.upstream_of("dev") == ()
    assert registry.describe_order() == "dev → stg → {prd-eu, prd-us}"


def test_several_upstreams_are_all_allowed_into_the_next_position() -> None:
    registry = parse_registry(GRAPH.replace("[dev, stg, [prd-eu, prd-us]]", "[dev, [stg, prd-eu], prd-us]"))
    assert [e.codename for e in registry.upstream_of("prd-us")] == ["stg", "prd-eu"]
    assert ("prd-eu", "prd-us") in registry.allowed_steps() and ("stg", "prd-us") in registry.allowed_steps()


def test_the_linear_form_means_what_it_meant() -> None:
    registry = parse_registry(GRAPH.replace("[dev, stg, [prd-eu, prd-us]]", "[dev, stg, prd-eu, prd-us]"))
    assert registry.positions == (("dev",), ("stg",), ("prd-eu",), ("prd-us",))
    assert registry.allowed_steps() == [("dev", "stg"), ("stg", "prd-eu"), ("prd-eu", "prd-us")]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("[dev, stg, [prd-eu, stg]]", "environments.yaml:7:30: 'promotion.order' lists 'stg' twice"),
        ("[dev, stg, [prd-eu, prd-uk]]", "environments.yaml:7:30: 'promotion.order' names unknown environment"),
        ("[dev, stg, [], [prd-eu, prd-us]]", "environments.yaml:7:21: 'promotion.order' has an empty group"),
        ("[dev, stg, [prd-eu, [prd-us]]]", "must be a list of codenames (or of lists of codenames)"),
        ("[dev, stg, [prd-eu]]", "'promotion.order' leaves out prd-us"),
    ],
)
def test_a_broken_order_is_reported_with_its_line(order: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_registry(GRAPH.replace("[dev, stg, [prd-eu, prd-us]]", order), "environments.yaml")
    found = [str(p) for p in info.value.problems]
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("dev", "prd-eu", "skips an environment"),
        ("prd-eu", "prd-us", "goes sideways"),
        ("prd-us", "qa", "goes backwards"),
    ],
)
def test_steps_outside_the_graph_are_refused_naming_the_allowed_ones(
    tmp_path: Path, source: str, target: str, why: str
) -> None:
    repo = make_graph_repo(tmp_path / "repo")
    result = run_cli(repo.path, "promote", source, target)
    assert result.exit_code == 2
    assert why in result.stderr
    assert "allowed: dev→stg, stg→qa, qa→prd-eu, qa→prd-us" in result.stderr
    assert "dev → stg → qa → {prd-eu, prd-us}" in result.stderr


def test_both_steps_into_a_group_are_allowed(tmp_path: Path) -> None:
    repo = make_graph_repo(tmp_path / "repo", (("dev",), ("stg",), ("prd-eu", "prd-us")))
    repo.commit("stg", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    for target in ("prd-eu", "prd-us"):
        result = run_cli(repo.path, "promote", "stg", target, "-o", "json")
        assert result.exit_code == 0, result.stderr
        assert result.json()["promoted"] is True
        assert repo.read(target, "apps/api/values.yaml") == b"image:\n  tag: '1.1.0'\n"
        assert repo.read(target, f"apps/api/values-{target}.yaml").startswith(f"# {target}: ".encode())


def test_status_and_parity_with_five_environments(tmp_path: Path) -> None:
    repo = make_graph_repo(tmp_path / "repo")
    repo.commit("qa", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0 on qa")
    status = run_cli(repo.path, "status", "-o", "json")
    assert status.exit_code == 0, status.stderr
    data = status.json()
    assert [e["codename"] for e in data["environments"]] == list(NAMES)
    assert data["positions"] == [["dev"], ["stg"], ["qa"], ["prd-eu", "prd-us"]]
    pending = {e["codename"]: e["pending"] for e in data["environments"]}
    assert pending["dev"] is None
    assert pending["prd-eu"]["upstream"] == "qa" and pending["prd-us"]["upstream"] == "qa"
    assert [f["path"] for f in pending["prd-us"]["files"]] == ["apps/api/values.yaml"]
    # qa was changed directly: stg → qa would overwrite it
    assert [d["path"] for d in next(e for e in data["environments"] if e["codename"] == "qa")["drift"]] == [
        "apps/api/values.yaml"
    ]

    parity = run_cli(repo.path, "parity", "-o", "json")
    assert parity.exit_code == 1  # the drift on qa
    report = parity.json()
    assert report["environments"] == list(NAMES)
    assert [(p["upstream"], p["downstream"]) for p in report["pairs"]] == [
        ("dev", "stg"),
        ("stg", "qa"),
        ("qa", "prd-eu"),
        ("qa", "prd-us"),
    ]
    text = run_cli(repo.path, "parity")
    lines = text.stdout.splitlines()
    header = next(line for line in lines if "prd-us" in line and "app" in line)
    assert all(name in header for name in NAMES)
    assert max(len(line) for line in lines) <= 120  # five columns fit: one part per line in a cell
    assert "[pending]" in text.stdout and "[drift]" in text.stdout
    key_warnings = [line for line in text.stderr.splitlines() if "key " in line]
    assert len(key_warnings) == len(set(key_warnings))  # each app's gaps once, not once per branch


def test_envs_and_validate_with_a_graph(tmp_path: Path) -> None:
    repo = make_graph_repo(tmp_path / "repo")
    envs = run_cli(repo.path, "envs")
    assert envs.exit_code == 0 and "promotion order: dev → stg → qa → {prd-eu, prd-us}" in envs.stdout
    assert run_cli(repo.path, "envs", "-o", "json").json()["positions"][-1] == ["prd-eu", "prd-us"]
    validate = run_cli(repo.path, "validate", "--no-fetch", "-o", "json")
    assert validate.exit_code == 0, validate.stdout + validate.stderr


def test_init_with_a_group_of_environments(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "init", "repo", "--envs", "dev,stg,prd-eu+prd-us", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["branches"] == ["dev", "stg", "prd-eu", "prd-us"]
    registry = parse_registry((tmp_path / "repo" / "environments.yaml").read_text())
    assert registry.positions == (("dev",), ("stg",), ("prd-eu", "prd-us"))
    assert "argocd/{env}/**" in registry.env_specific
    files = result.json()["files"]
    assert "argocd/prd-us/apps/api.yaml" in files and "apps/web/values-prd-eu.yaml" in files
    assert (
        "Changes travel dev → stg → {prd-eu, prd-us}, one step at a time"
        in (tmp_path / "repo" / "README.md").read_text()
    )
    assert run_cli(tmp_path / "repo", "validate", "--no-fetch").exit_code == 0
    linear = run_cli(tmp_path, "init", "line", "--envs", "dev,stg,prd-eu,prd-us", "-o", "json")
    assert parse_registry((tmp_path / "line" / "environments.yaml").read_text()).positions[-1] == ("prd-us",)
    assert linear.exit_code == 0


@pytest.mark.parametrize(
    ("envs", "message"),
    [("dev", "at least two"), ("dev,Prod", "invalid environment codename"), ("dev,stg,dev", "twice"),
     ("a+b,c", "cannot be a group")],
)  # fmt: skip
def test_init_refuses_bad_envs(tmp_path: Path, envs: str, message: str) -> None:
    result = run_cli(tmp_path, "init", "repo", "--envs", envs)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "repo").exists() or not any((tmp_path / "repo").iterdir())


# ---- gitops promote SRC: every environment of the next position --------------------------------

FROZEN_PRD_EU = """\
    freeze:
      - from: "2026-12-24T00:00:00Z"
        to: "2026-12-27T08:00:00Z"
        reason: holiday freeze
"""


def fan_out_repo(path: Path, *, freeze_prd_eu: bool = False) -> GitopsRepo:
    repo = make_graph_repo(path, (("dev",), ("stg",), ("prd-eu", "prd-us", "prd-ap")))
    if freeze_prd_eu:
        registry = repo.read("stg", "environments.yaml").decode()
        registry = registry.replace("  - codename: prd-us\n", FROZEN_PRD_EU + "  - codename: prd-us\n")
        for branch in ("stg", "prd-eu", "prd-us", "prd-ap"):
            repo.commit(branch, {"environments.yaml": registry}, "freeze prd-eu")
    repo.commit("stg", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    return repo


def test_promote_without_target_promotes_every_next_environment(tmp_path: Path) -> None:
    repo = fan_out_repo(tmp_path / "repo")
    before = {t: repo.head(t) for t in ("prd-eu", "prd-us", "prd-ap")}
    result = run_cli(repo.path, "promote", "stg", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert [t["target"] for t in data["targets"]] == ["prd-eu", "prd-us", "prd-ap"]  # registry order
    for outcome in data["targets"]:
        target = outcome["target"]
        assert outcome["ok"] and outcome["result"]["promoted"]
        assert repo.head(target) == outcome["result"]["target_commit"] != before[target]
        # one commit each, on top of that target's own tip
        assert repo.read(target, "apps/api/values.yaml") == b"image:\n  tag: '1.1.0'\n"
    text = run_cli(repo.path, "promote", "stg")
    assert text.exit_code == 0
    assert "prd-eu  nothing to promote" in text.stdout and "prd-ap  nothing to promote" in text.stdout


def test_a_refused_target_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = fan_out_repo(tmp_path / "repo", freeze_prd_eu=True)
    repo.commit("prd-us", {"apps/api/values.yaml": "image:\n  tag: '1.0.1-hotfix'\n"}, "hotfix on prd-us")
    monkeypatch.setenv("GITOPS_NOW", "2026-12-25T12:00:00Z")
    frozen, drifted = repo.head("prd-eu"), repo.head("prd-us")
    result = run_cli(repo.path, "promote", "stg")
    assert result.exit_code == 1
    assert repo.head("prd-eu") == frozen and repo.head("prd-us") == drifted
    assert repo.read("prd-ap", "apps/api/values.yaml") == b"image:\n  tag: '1.1.0'\n"
    lines = result.stdout.splitlines()
    assert any(line.startswith("  prd-eu  refused: refused: prd-eu is frozen") for line in lines), lines
    assert any(line.startswith("  prd-us  refused: refusing to promote: 1 path(s)") for line in lines), lines
    assert any(line.startswith("  prd-ap  promoted: ") for line in lines), lines
    assert "2 of 3 not promoted: prd-eu, prd-us" in result.stderr
    as_json = run_cli(repo.path, "promote", "stg", "--dry-run", "-o", "json")
    assert as_json.exit_code == 1
    by_target = {t["target"]: t for t in as_json.json()["targets"]}
    assert by_target["prd-us"]["result"]["drift"][0]["path"] == "apps/api/values.yaml"
    assert by_target["prd-eu"]["exit_code"] == 1 and by_target["prd-ap"]["ok"]


def test_promote_without_target_in_a_linear_order_is_the_next_step(gitops_repo: GitopsRepo) -> None:
    gitops_repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    result = run_cli(gitops_repo.path, "promote", "dev", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["target"] == "stg" and result.json()["promoted"]  # the one-target shape
    last = run_cli(gitops_repo.path, "promote", "prd")
    assert last.exit_code == 2 and "prd is the last environment" in last.stderr


def test_a_group_feeding_one_environment(tmp_path: Path) -> None:
    """[dev, [stg-a, stg-b], prd]: both promote into prd; status/parity compare prd with stg-a."""
    repo = make_graph_repo(tmp_path / "repo", (("dev",), ("stg-a", "stg-b"), ("prd",)))
    repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"}, "api 1.1.0")
    fan = run_cli(repo.path, "promote", "dev", "-o", "json")
    assert fan.exit_code == 0, fan.stderr
    assert [t["target"] for t in fan.json()["targets"]] == ["stg-a", "stg-b"]
    for source in ("stg-a", "stg-b"):
        step = run_cli(repo.path, "promote", source, "prd", "-o", "json")
        assert step.exit_code == 0, step.stderr
    status = run_cli(repo.path, "status", "-o", "json").json()
    prd = next(e for e in status["environments"] if e["codename"] == "prd")
    assert prd["pending"]["upstream"] == "stg-a" and prd["drift"] == []
    parity = run_cli(repo.path, "parity", "-o", "json")
    assert parity.exit_code == 0, parity.stdout
    assert [(p["upstream"], p["downstream"]) for p in parity.json()["pairs"]] == [
        ("dev", "stg-a"),
        ("dev", "stg-b"),
        ("stg-a", "prd"),
    ]


def test_large_groups_are_checked_without_listing_every_step() -> None:
    from gitops_promote.commands._context import promotion_step
    from gitops_promote.errors import UsageError

    names = [f"e{i}" for i in range(400)]
    envs = "".join(f"  - codename: {n}\n" for n in names)
    order = f"[[{', '.join(names[:200])}], [{', '.join(names[200:])}]]"
    registry = parse_registry(f"environments:\n{envs}promotion:\n  order: {order}\n")
    assert registry.allows("e0", "e399") and not registry.allows("e399", "e0") and not registry.allows("e0", "e1")
    assert promotion_step(registry, "e7", "e300")[1].codename == "e300"
    with pytest.raises(UsageError) as info:
        promotion_step(registry, "e1", "e2")
    assert "… and 39,980 more" in info.value.hint and len(info.value.hint) < 1000
