"""No dead weight: every declared dependency is used and explained, helpers exist once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gitops_promote.core.forge import parse_remote_url, parse_repo_url
from gitops_promote.core.lookup import closest, node_position
from gitops_promote.core.paths import is_yaml_path
from gitops_promote.core.registry import parse_registry
from gitops_promote.core.validation import validate_tree
from gitops_promote.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "gitops_promote"
# distribution name -> the top-level module it provides
MODULE_OF = {"typer": "typer", "click": "click", "ruamel.yaml": "ruamel", "rich": "rich", "pyyaml": "yaml"}
# the word docs/design.md names each dependency by
NAMED_AS = {"typer": "Typer", "click": "click", "ruamel.yaml": "ruamel", "rich": "rich", "pyyaml": "PyYAML"}


def _declared() -> list[str]:
    # A regex, not tomllib: the suite also runs on Python 3.10.
    block = re.search(r"^dependencies = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(), re.M | re.S)
    assert block is not None
    deps = re.findall(r'^\s*"([^"]+)"', block.group(1), re.M)
    return [re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in deps]


def _imported_top_levels() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_every_declared_dependency_is_imported() -> None:
    imported = _imported_top_levels()
    unused = [d for d in _declared() if MODULE_OF.get(d, d) not in imported]
    assert unused == [], f"declared in pyproject.toml but imported nowhere: {unused}"
    assert "deepdiff" not in _declared() and "gitpython" not in _declared()
    assert "git" not in imported, "GitPython is imported again: adapters/git.py reads blobs itself"


def test_design_doc_explains_every_dependency() -> None:
    design = (ROOT / "docs" / "design.md").read_text()
    for dep in _declared():
        assert NAMED_AS.get(dep, dep) in design, f"docs/design.md says nothing of {dep}"
    assert "DeepDiff" in design and "GitPython" in design


def test_is_yaml_path_ignores_case_and_templates() -> None:
    assert is_yaml_path("apps/web/values.YAML")
    assert is_yaml_path("apps/web/values-stg.Yml")
    assert not is_yaml_path("apps/web/templates/deployment.yaml")
    assert not is_yaml_path("apps/web/README.md")


def test_an_upper_case_yaml_file_is_validated_as_it_is_diffed() -> None:
    registry = parse_registry(b"environments:\n  - {codename: dev, branch: dev}\npromotion: {order: [dev]}\n")
    findings = validate_tree({"apps/web/values.YAML": b"a: [1\n"}, registry, "dev")
    assert [(f.rule, f.file) for f in findings] == [("yaml-parse", "apps/web/values.YAML")]


def test_registry_and_freeze_name_lines_the_same_way() -> None:
    """One position helper: registry errors and freeze-window errors are both 1-based."""
    text = b"environments:\n  - codename: dev\n    branch: dev\n    freeze:\n      - {start: nope}\n"
    text += b"promotion: {order: [dev]}\n"
    with pytest.raises(ConfigError) as caught:
        parse_registry(text)
    assert "environments.yaml:5:" in str(caught.value)


def test_node_position_is_one_based_and_falls_back_to_the_node() -> None:
    from ruamel.yaml import YAML

    doc = YAML().load("a: 1\nb:\n  - x\n  - y\n")
    assert node_position(doc, "b") == (2, 1)
    assert node_position(doc["b"], index=1) == (4, 5)
    assert node_position(doc, "missing") == (1, 1)
    assert node_position({"plain": 1}, "plain") is None


def test_closest_suggests_one_name() -> None:
    assert closest("promtion", {"promotion", "environments"}) == "promotion"
    assert closest("zzz", {"promotion"}) is None


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("git://github.com/acme/gitops.git", "github.com", "acme/gitops"),
        ("https://user:token@github.com/acme/gitops.git", "github.com", "acme/gitops"),
        ("ssh://git@gitlab.com:2222/g/sub/r", "gitlab.com", "g/sub/r"),
        ("git@github.com:acme/gitops.git", "github.com", "acme/gitops"),
    ],
)
def test_one_url_parser_for_init_and_pr(url: str, host: str, path: str) -> None:
    where = parse_repo_url(url)
    assert where is not None and (where.host, where.path) == (host, path)
    forge = parse_remote_url(url)
    assert forge is not None and (forge.host, forge.path) == (host, path)


def test_no_import_cycle_between_registry_and_freeze() -> None:
    """Counting imports inside functions too: a lazy import still makes a cycle."""
    for module, other in (("registry", "freeze"), ("freeze", "registry")):
        tree = ast.parse((SRC / "core" / f"{module}.py").read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        if f"gitops_promote.core.{other}" in names:
            back = ast.parse((SRC / "core" / f"{other}.py").read_text())
            back_names = {n.module for n in ast.walk(back) if isinstance(n, ast.ImportFrom)}
            assert f"gitops_promote.core.{module}" not in back_names, f"{module} <-> {other}"


def test_helpers_are_defined_once() -> None:
    for name in ("is_yaml_path", "_position", "_closest", "parse_repo_url", "parse_remote_url"):
        homes = [p for p in SRC.rglob("*.py") if re.search(rf"^def {name}\(", p.read_text(), re.M)]
        assert len(homes) <= 1, f"{name} is defined in {homes}"


def _imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("layer", ["render", "results", "core", "adapters"])
def test_layers_below_the_commands_never_import_them(layer: str) -> None:
    """Renderers draw result objects (results/), which commands build: no renderer, result,
    core or adapter module imports a command module (docs/design.md, the layers)."""
    offenders = {
        str(path.relative_to(SRC)): sorted(m for m in _imports_of(path) if m.startswith("gitops_promote.commands"))
        for path in (SRC / layer).rglob("*.py")
    }
    assert {p: m for p, m in offenders.items() if m} == {}


def test_core_never_imports_the_cli_framework_or_the_terminal() -> None:
    for path in (SRC / "core").rglob("*.py"):
        imported = {m.split(".")[0] for m in _imports_of(path)}
        assert not imported & {"typer", "click", "rich"}, path


def test_commands_never_import_each_other() -> None:
    """A command module (commands/<name>.py) imports the shared ones (commands/_*.py), never
    another command: the CLI composes them (gitops demo is handed plan and promote)."""
    commands = {p.stem for p in (SRC / "commands").glob("*.py") if not p.stem.startswith("_")}
    offenders = {}
    for path in (SRC / "commands").glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "gitops_promote.commands":
                imported |= {alias.name for alias in node.names}
            elif (
                isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gitops_promote.commands.")
            ):
                imported.add(node.module.rsplit(".", 1)[1])
        if found := sorted((imported & commands) - {path.stem}):
            offenders[path.name] = found
    assert offenders == {}
