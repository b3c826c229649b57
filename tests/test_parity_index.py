"""parity's indexes: app states from one walk of the pending list, YAML data without nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_promote.adapters.yaml_data import first_document as load_first
from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, load_documents
from gitops_promote.core.drift import Drift
from gitops_promote.core.parity import DRIFT, PENDING, SAME, PairReport, cell_state
from gitops_promote.core.promotion import FileAction

APPS = ["apps/api", "apps/api/charts/sub", "apps/web", "apps/webby", "apps/idle"]


def pair(pending: list[str], drift: list[str]) -> PairReport:
    report = PairReport("dev", "stg", "a" * 40, "b" * 40)
    report.pending = [FileAction(p, "modified") for p in pending]
    report.drift = [Drift(p, ("c" * 40,)) for p in drift]
    return report


def test_app_states_match_the_per_cell_scan() -> None:
    report = pair(
        ["apps/api/charts/sub/values.yaml", "apps/web/values.yaml", "apps/webby/x/y.yaml", "README.md"],
        ["apps/web/values.yaml"],
    )
    states = report.app_states(APPS)
    assert states == {"apps/api": PENDING, "apps/api/charts/sub": PENDING, "apps/web": DRIFT, "apps/webby": PENDING}
    for app in APPS:  # the single-app form says the same, app by app
        assert cell_state(app, report) == states.get(app, SAME)
    assert cell_state("apps/idle", None) == SAME


def test_a_root_chart_holds_every_path_and_drift_wins() -> None:
    report = pair(["a/b.yaml", "c.yaml"], ["c.yaml"])
    assert report.app_states([".", "a"]) == {".": DRIFT, "a": PENDING}


CORPUS = sorted((Path(__file__).parent / "data" / "corpus").rglob("*.y*ml"))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, {y: 2}]\nwhen: 2024-01-01\n",
        "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",
        "",
        "# only a comment\n",
        "first: 1\n---\nsecond: 2\n",
        "a: &x 1\nb: &x 2\nc: *x\n",  # a re-defined anchor: the ruamel fallback
        "shared: &s {k: [1, 2.5, true, null, ~, 0x1f, 1e3]}\nagain: *s\n",
        "loop: &l [1, *l]\n",  # recursive: PyYAML's constructor
        "? [a, b]\n: unhashable key\n",
        "s: !!set {a, b}\nb: !!binary aGk=\no: !!omap [{a: 1}]\n",
        "x: !custom 1\n",
        "1: int key\n2.5: float key\ntrue: bool key\n",
        "a: 1\n---\nb: [unclosed\n",  # an error in a later document
        *[p.read_text(encoding="utf-8", errors="replace") for p in CORPUS[:40]],
    ],
)
def test_load_first_gives_the_first_document_of_load_documents(text: str) -> None:
    try:
        documents = load_documents(text)
    except YamlSyntaxError:
        with pytest.raises(YamlSyntaxError):
            load_first(text)
        return
    # repr: a recursive alias builds a list that contains itself, which == cannot compare
    assert repr(load_first(text)) == repr(documents[0].data if documents else None)
