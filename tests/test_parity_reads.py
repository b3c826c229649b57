"""How parity reads: named listings, YAML data with the limits, facts per blob and their cache.

Each fast path is checked against the slow one it replaces (`Repository.ls_tree`,
`yaml_nodes.load_documents`, `helm.deep_merge` + `parity.image_tag` + `helm.leaf_keys`,
`console.json_text(report.to_json())`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import REGISTRY, GitopsRepo, git, make_gitops_repo, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_parity_index import CORPUS
from test_yaml_limits import billion_laughs

from gitops_promote.adapters import background, facts_cache, listing
from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.listing import named_files
from gitops_promote.adapters.yaml_data import first_document
from gitops_promote.adapters.yaml_nodes import YamlSyntaxError, decode, load_documents
from gitops_promote.commands import parity as command
from gitops_promote.core.helm import deep_merge, leaf_keys
from gitops_promote.core.parity import FileFacts, Row, broken_file, effective_tag, file_facts, image_tag
from gitops_promote.core.yamlload import MAX_FILE_BYTES
from gitops_promote.render import console
from gitops_promote.render.parity import json_text

NAMES = ("Chart.yaml", "values.yaml", "values-dev.yaml", "values-stg.yaml", "values-prd.yaml")


# ---- listings ------------------------------------------------------------------------------------


def test_named_files_are_the_listing_filtered(gitops_repo: GitopsRepo) -> None:
    repo = gitops_repo
    dev = repo.commit(
        "dev",
        {
            "Chart.yaml": "name: root\n",  # a root chart
            "apps/api/values.yaml": "image: {tag: 2}\n",
            "apps/new/Chart.yaml": ("120000", "../api/Chart.yaml"),  # a symlink is read as a blob
            "apps/odd name\t/Chart.yaml": "name: tab\n",  # a tab in a directory name
            "apps/x/not-values.yaml": "a: 1\n",
            "apps/x/values-dev.yaml.bak": "a: 1\n",
            "apps/caf\xe9/values.yaml": "a: 1\n",
        },
    )
    stg = repo.commit(
        "stg",
        {
            "apps/web/Chart.yaml": None,
            "apps/api/values-stg.yaml": "replicaCount: 9\n",
            "apps/api/values.yaml": ("120000", "../web/values.yaml"),  # a type change (T)
            "apps/web/values.yaml": None,
            "apps/web/values.yaml/inside.yaml": "a: 1\n",  # a file became a directory
        },
    )
    with Repository(repo.path) as git_repo:
        tree = git_repo.write_tree(
            {
                **git_repo.ls_tree(stg),
                "apps/sub/Chart.yaml": git_repo.ls_tree(stg)["apps/api/Chart.yaml"]._replace(mode="160000", sha=stg),
            }
        )
        prd = git_repo.commit_tree(tree, [repo.head("prd")], "a submodule named Chart.yaml")
        commits = {"dev": dev, "stg": stg, "prd": prd}
        found = named_files(git_repo, commits, NAMES)
        kept = git_repo.git_dir / listing.LISTING_FILE
        assert kept.is_file() and named_files(git_repo, commits, NAMES) == found  # read back by tree id
        kept.write_bytes(kept.read_bytes()[:-5])  # damaged: listed again
        assert named_files(git_repo, commits, NAMES) == found
        assert (
            named_files(git_repo, commits, NAMES[:2])
            == {  # other names: another key
                env: {p: s for p, s in files.items() if p.rpartition("/")[2] in NAMES[:2]}
                for env, files in found.items()
            }
        )
        for env, commit in commits.items():
            entries = git_repo.ls_tree(commit)
            expected = {
                path: None if entry.kind == "commit" else entry.sha
                for path, entry in entries.items()
                if path.rpartition("/")[2] in NAMES
            }
            assert found[env] == expected, env
    assert "apps/odd name\t/Chart.yaml" in found["dev"] and found["prd"]["apps/sub/Chart.yaml"] is None
    assert "apps/web/Chart.yaml" not in found["stg"] and "Chart.yaml" in found["dev"]


# ---- YAML data ------------------------------------------------------------------------------------

TEXTS = [
    "a: 1\nb: [x, {y: 2}]\nwhen: 2024-01-01\n",
    "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",
    "",
    "# only a comment\n",
    "\ufefffirst: 1\n---\nsecond: 2\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "shared: &s {k: [1, 2.5, true, null, ~, 0x1f, 1e3, .inf, -.nan]}\nagain: *s\n",
    "loop: &l [1, *l]\n",
    "? [a, b]\n: unhashable key\n",
    "s: !!set {a, b}\nb: !!binary aGk=\no: !!omap [{a: 1}]\n",
    "x: !custom 1\n",
    "1: int key\n2.5: float key\ntrue: bool key\n~: null key\n2024-01-01: date key\n",
    "a: 1\n---\nb: [unclosed\n",
    "a: 1\n---\n" + billion_laughs(),  # a bomb in a later document
    "n: " + "9" * 4100 + "\n",
    "d: 2024-02-30\nt: 2024-13-01 10:00:00\n",
    "octal: 010\nsexagesimal: 1:30\nyes: no\nquoted: '010'\n",
    "deep: " + "[" * 255 + "]" * 255 + "\n",
    "deep: " + "[" * 300 + "]" * 300 + "\n",
    billion_laughs(),
    "[" * 5000 + "]" * 5000,
]


def _reference(raw: bytes) -> tuple[str, Any]:
    """What parity read before (load_documents' first document, the limits included)."""
    try:
        documents = load_documents(decode(raw))
    except YamlSyntaxError as exc:
        return "error", str(exc)
    return "data", repr(documents[0].data if documents else None)


def _fast(raw: bytes) -> tuple[str, Any]:
    try:
        return "data", repr(first_document(raw))
    except YamlSyntaxError as exc:
        return "error", str(exc)


@pytest.mark.parametrize(
    "raw",
    [t.encode() for t in TEXTS] + [b"\xff\xfe", b"a: \xe9\n"] + [p.read_bytes() for p in CORPUS],
    ids=lambda raw: repr(raw[:30]),
)
def test_first_document_is_load_documents_first(raw: bytes) -> None:
    assert _fast(raw) == _reference(raw)


def test_the_limits_hold() -> None:
    start = time.monotonic()
    with pytest.raises(YamlSyntaxError, match="billion laughs"):
        first_document(billion_laughs().encode())
    with pytest.raises(YamlSyntaxError, match="deeper than 256"):
        first_document(("[" * 300 + "]" * 300).encode())
    with pytest.raises(YamlSyntaxError, match="MiB"):
        first_document(b"a: " + b"x" * MAX_FILE_BYTES)
    assert time.monotonic() - start < 10


# ---- facts -------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "1.0", "x", "tag"]))
keys = st.sampled_from(["image", "tag", "env", "a", "b", ""])
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
documents = st.one_of(values, st.dictionaries(keys, values, max_size=4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, documents)
def test_facts_give_what_the_data_gave(base: Any, overlay: Any) -> None:
    """The tag and keys from facts are those of the data (Helm's merge of the two files)."""
    values_facts, overlay_facts = file_facts(base), file_facts(overlay)
    merged = deep_merge(base if isinstance(base, dict) else {}, overlay if isinstance(overlay, dict) else {})
    assert effective_tag(values_facts, overlay_facts) == image_tag(merged)
    assert overlay_facts.keys == (frozenset(leaf_keys(overlay)) if isinstance(overlay, dict) else None)
    hash(values_facts)  # facts are shared and kept by value


# ---- the facts cache -----------------------------------------------------------------------------


def test_the_cache_round_trips_and_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    facts = {
        "a" * 40: file_facts({"version": "1", "image": {"tag": "\u202e\ud800x"}, "k": {"\n": 1}}),
        "b" * 40: broken_file("did not find expected ','"),
        "c" * 40: file_facts(["not", "a", "mapping"]),
    }
    facts["d" * 40] = facts["a" * 40]
    facts_cache.save(tmp_path, facts, sorted(facts))
    assert facts_cache.load(tmp_path) == facts
    path = tmp_path / facts_cache.FILE_NAME
    header, body = path.read_bytes().split(b"\n", 1)
    assert body.count(b"did not find") == 1  # equal answers are written once
    for broken in (header + b"\n" + body[:-3], b"x" + header + b"\n" + body, b"", b"\n".join([header, b"[]"])):
        path.write_bytes(broken)
        assert facts_cache.load(tmp_path) == {}
    facts_cache.save(tmp_path, facts, ["a" * 40])
    assert facts_cache.load(tmp_path) == {"a" * 40: facts["a" * 40]}  # what this run did not use is dropped


def _cache_file(repo: GitopsRepo) -> Path:
    return Path(git(repo.path, "rev-parse", "--absolute-git-dir")) / facts_cache.FILE_NAME


def test_parity_reads_each_file_once_across_runs(gitops_repo: GitopsRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = gitops_repo
    repo.commit("prd", {"apps/web/values-prd.yaml": "image: {tag: hotfix}\n", "apps/api/values.yaml": "a: [\n"})
    first = run_cli(repo.path, "parity", "-o", "json")
    cache = _cache_file(repo)
    written = cache.stat().st_mtime_ns
    parsed: list[bytes] = []
    monkeypatch.setattr(background, "ENABLED", False)  # parsed here, where `parsed` sees it
    real = command._parse_all

    def recording(chunks: Iterable[list[bytes]]) -> list[FileFacts]:
        read = [list(chunk) for chunk in chunks]
        parsed.extend(raw for chunk in read for raw in chunk)
        return real(read)

    monkeypatch.setattr(command, "_parse_all", recording)
    second = run_cli(repo.path, "parity", "-o", "json")
    assert (second.exit_code, second.stdout, second.stderr) == (first.exit_code, first.stdout, first.stderr)
    assert parsed == [] and cache.stat().st_mtime_ns == written  # nothing read, nothing written again
    repo.commit("dev", {"apps/api/values-dev.yaml": "image: {tag: fresh}\n"})
    third = run_cli(repo.path, "parity", "-o", "json").json()
    assert third["apps"]["apps/api"]["dev"]["image_tag"] == "fresh"
    assert parsed == [b"image: {tag: fresh}\n"]  # only the new blob
    cache.write_bytes(b"garbage")  # a damaged file is read around, then written again
    (cache.parent / facts_cache.TABLES_FILE).write_bytes(b"garbage too")
    assert run_cli(repo.path, "parity", "-o", "json").json() == third
    assert len(facts_cache.load(cache.parent)) > 5


def test_a_cache_that_cannot_be_written_is_done_without(gitops_repo: GitopsRepo) -> None:
    """A read-only repository, a full disk: parity reads every file, as without the cache.
    (A directory in the file's place makes the write fail even for root.)"""
    git_dir = Path(git(gitops_repo.path, "rev-parse", "--absolute-git-dir"))
    (git_dir / facts_cache.FILE_NAME).mkdir()
    (git_dir / listing.LISTING_FILE).mkdir()
    (git_dir / facts_cache.TABLES_FILE).mkdir()
    before = sorted(p.name for p in git_dir.iterdir())
    first = run_cli(gitops_repo.path, "parity", "-o", "json", "--no-fetch")
    second = run_cli(gitops_repo.path, "parity", "-o", "json", "--no-fetch")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    assert sorted(p.name for p in git_dir.iterdir()) == before  # no temporary file left behind


def test_a_bomb_in_an_env_file_is_a_problem_not_a_hang(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("prd", {"apps/web/values-prd.yaml": billion_laughs()})
    start = time.monotonic()
    result = run_cli(repo.path, "parity", "-o", "json")
    assert time.monotonic() - start < 30
    cell = result.json()["apps"]["apps/web"]["prd"]
    assert cell["problems"] and "billion laughs" in cell["problems"][0]


# ---- output --------------------------------------------------------------------------------------


def test_json_text_is_the_report_as_json(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit(
        "dev",
        {
            'apps/q"uo\\te/Chart.yaml': "version: 1\n",
            "apps/\u202ebidi\x7f/Chart.yaml": "version: '\u202e2'\nappVersion: \"\\e[2J\"\n",
            "apps/caf\xe9/Chart.yaml": "version: 3\n",
        },
    )
    report = command.run(repo.path)
    assert json_text(report) == console.json_text(report.to_json())
    empty = command.run(make_gitops_repo(tmp_path / "empty", {"environments.yaml": REGISTRY}).path)
    assert json_text(empty) == console.json_text(empty.to_json())


def test_parity_reads_no_full_listing_of_the_prepared_steps() -> None:
    """The engine's `Prepared` trees become lazy views: parity reads its own three files per app."""
    source = Path(command.__file__).read_text()
    for name in ("source_tree", "target_tree", "plan.entries", "ls_tree("):
        assert name not in source


def test_facts_are_plain_values() -> None:
    assert isinstance(file_facts({"image": {"tag": 1}}), FileFacts)
    assert file_facts({"image": {"tag": 1}}).image == "tag:1"


def test_tables_round_trip_by_tree_and_environment(tmp_path: Path) -> None:
    rows = {
        "apps/a": Row("1", None, "t", (), frozenset({"env.A", "x"})),
        "apps/b": Row(None, None, None, ("apps/b/values.yaml: not valid YAML (\u202e)",), None),
        "": None,  # a root Chart.yaml: not read
    }
    keys = {"dev": "a" * 40 + " dev", "stg": "b" * 40 + " stg"}
    facts_cache.save_tables(tmp_path, keys, {"dev": rows, "stg": {"apps/a": rows["apps/a"]}})
    assert facts_cache.load_tables(tmp_path, keys) == {"dev": rows, "stg": {"apps/a": rows["apps/a"]}}
    assert facts_cache.load_tables(tmp_path, {"dev": keys["dev"]}) == {"dev": rows}
    assert facts_cache.load_tables(tmp_path, {**keys, "prd": "c" * 40 + " prd"}) == {  # prd not kept
        "dev": rows,
        "stg": {"apps/a": rows["apps/a"]},
    }
    path = tmp_path / facts_cache.TABLES_FILE
    path.write_bytes(path.read_bytes().replace(b'"1"', b'"2"'))  # edited: the checksum no longer holds
    assert facts_cache.load_tables(tmp_path, keys) == {}


def _without_kept_files(repo: GitopsRepo) -> str:
    git_dir = Path(git(repo.path, "rev-parse", "--absolute-git-dir"))
    for name in (facts_cache.FILE_NAME, facts_cache.TABLES_FILE, listing.LISTING_FILE):
        (git_dir / name).unlink(missing_ok=True)
    return run_cli(repo.path, "parity", "-o", "json").stdout


@pytest.mark.parametrize("branch", ["dev", "stg", "prd"])
def test_a_moved_branch_reads_as_from_scratch(gitops_repo: GitopsRepo, branch: str) -> None:
    """Kept rows of the other branches, a listing derived from the kept one: the same report."""
    repo = gitops_repo
    run_cli(repo.path, "parity", "-o", "json")
    repo.commit(
        branch,
        {
            f"apps/api/values-{branch}.yaml": "image: {tag: moved}\nenv: {X: 1}\n",
            "apps/new/Chart.yaml": "version: 9\n",
            "apps/web/values.yaml": "image: [broken\n",
            "apps/web/Chart.yaml": None,
        },
    )
    moved = run_cli(repo.path, "parity", "-o", "json").stdout
    assert moved == _without_kept_files(repo)
    assert json.loads(moved)["apps"]["apps/api"][branch]["image_tag"] == "moved"
