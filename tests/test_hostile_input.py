"""Hostile and broken input: registries, YAML bombs, huge blobs, odd bytes, odd names, secrets.

A broken registry always ends in exit 2 with a `file:line` message, never a traceback (exit 4);
contents the promotion does not need are never loaded, and everything it promotes arrives byte
for byte: binary files, CRLF, BOMs, non-UTF-8 file names, symlinks (never followed) and
submodules (gitlinks). Names that look like options or paths are refused before git runs.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REGISTRY, GitopsRepo, git, make_gitops_repo, run_cli, standard_files
from conftest_daemon import DaemonRemote, serve_gitops_repo
from gitdaemon import GitDaemon
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_checks import gitops_argv, run_gitops, tree

CORPUS_INVALID = Path(__file__).parent / "data" / "corpus" / "yaml-edge" / "invalid"
REFERENCE: dict[str, Any] = yaml.safe_load(REGISTRY)


def assert_registry_error(result: Any, source: str) -> None:
    """Exit 2, a message that names the file and a line, no traceback."""
    stderr = result.stderr
    assert result.exit_code == 2, f"exit {result.exit_code}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert re.search(re.escape(source) + r":\d+", stderr), stderr


def promote_with_registry(repo: GitopsRepo, registry: Path) -> Any:
    return run_cli(repo.path, "promote", "dev", "stg", "--dry-run", "--registry", str(registry))


# ---- registries mutated by hypothesis -------------------------------------------------------------

BAD_BRANCHES = [
    "--upload-pack=touch /tmp/x",
    "-x",
    "../x",
    "stg\n",
    "a..b",
    "a b",
    "x.lock",
    "/abs",
    "trailing/",
    "@",
    "a@{1}",
    "HEAD",
    "",
    "with~tilde",
    "colon:x",
    "star*",
    "q?",
    "back\\slash",
    ".hidden",
    "dot.",
    "\x7f",
]
NOT_STRINGS = st.one_of(
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), min_size=1, max_size=2),
)
NOT_LISTS = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=5), st.dictionaries(st.just("k"), st.integers(), min_size=1)
)
BAD_CODENAMES = st.one_of(NOT_STRINGS, st.sampled_from(["Dev", "-x", "", "a" * 41, "dev stg", "dév", "x/y", "_x"]))
BAD_BRANCH = st.one_of(st.sampled_from(BAD_BRANCHES), st.integers(), st.lists(st.text(max_size=3), max_size=2))
BAD_WINDOWS = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.just({"from": 1}),
    st.lists(st.integers(), min_size=1, max_size=2),
    st.just([{"from": "yesterday", "to": "tomorrow"}]),
    st.just([{"weekly": {"from": "Fri 16:00"}}]),
)
ENV_BAD_VALUES = {
    "codename": BAD_CODENAMES,
    "branch": BAD_BRANCH,
    "name": NOT_STRINGS,
    "audience": st.one_of(st.integers(), st.booleans(), st.lists(st.integers(), min_size=1, max_size=2)),
    "availability": st.one_of(
        st.sampled_from(["abc", "101%", "99", "-1%", "1e3%"]), st.integers(), st.lists(st.just(1), min_size=1)
    ),
    "persistence": st.one_of(
        st.sampled_from(["forever", "Persistent", ""]), st.integers(), st.lists(st.just("x"), min_size=1)
    ),
    "backups": st.one_of(
        st.integers(), st.sampled_from(["yes", "no"]), st.just({"enabled": "maybe"}), st.just({"bogus": 1})
    ),
    "freeze": BAD_WINDOWS,
    "windows": BAD_WINDOWS,
}
PROMOTION_BAD_VALUES = {
    "order": st.one_of(
        st.integers(),
        st.text(max_size=5),
        st.lists(st.integers(), min_size=1, max_size=3),
        st.sampled_from([["dev", "dev", "stg", "prd"], ["dev", "stg"], ["dev", "stg", "prd", "qa"]]),
    ),
    "env_specific": st.one_of(
        st.integers(),
        st.dictionaries(st.just("k"), st.integers(), min_size=1),
        st.lists(
            st.one_of(st.integers(), st.sampled_from(["/abs/*.yaml", "../x", "a//b", "{app}/x", "a\\b", ""])),
            min_size=1,
            max_size=2,
        ),
    ),
    "env_specific_keys": st.one_of(
        st.lists(st.text(max_size=3), max_size=2),
        st.text(max_size=5),
        st.integers(),
        st.just({"apps/*/values.yaml": "image.tag"}),
        st.just({"apps/*/values.yaml": [1]}),
        st.just({"../x": ["a"]}),
    ),
}
UNKNOWN_KEYS = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), min_size=1, max_size=10)


@st.composite
def mutation(draw: st.DrawFn, doc: dict[str, Any]) -> str:
    """Apply one mutation that makes the registry invalid; return what it did."""
    envs = doc["environments"]
    index = draw(st.integers(0, len(envs) - 1))
    kind = draw(st.sampled_from(["unknown-key", "env-value", "promotion-value", "duplicate", "structure"]))
    if kind == "unknown-key":
        where = draw(st.sampled_from(["top", "env", "promotion", "backups"]))
        allowed = {
            "environments",
            "promotion",
            "codename",
            "name",
            "branch",
            "audience",
            "availability",
            "persistence",
            "backups",
            "freeze",
            "windows",
            "order",
            "env_specific",
            "env_specific_keys",
            "enabled",
            "policy",
        }
        key = draw(UNKNOWN_KEYS.filter(lambda k: k not in allowed))
        target = {"top": doc, "env": envs[index], "promotion": doc["promotion"], "backups": None}[where]
        if target is None:
            envs[index]["backups"] = {"enabled": True, key: 1}
        else:
            target[key] = draw(st.one_of(st.integers(), st.text(max_size=5), st.none()))
        return f"unknown key {key!r} in {where}"
    if kind == "env-value":
        key = draw(st.sampled_from(sorted(ENV_BAD_VALUES)))
        envs[index][key] = draw(ENV_BAD_VALUES[key])
        return f"environments[{index}].{key} = {envs[index][key]!r}"
    if kind == "promotion-value":
        key = draw(st.sampled_from(sorted(PROMOTION_BAD_VALUES)))
        doc["promotion"][key] = draw(PROMOTION_BAD_VALUES[key])
        return f"promotion.{key} = {doc['promotion'][key]!r}"
    if kind == "duplicate":
        other = draw(st.integers(0, len(envs) - 1).filter(lambda i: i != index))
        what = draw(st.sampled_from(["codename", "branch"]))
        envs[other][what] = envs[index].get(what, envs[index]["codename"])
        if what == "codename":
            envs[other]["branch"] = envs[other].get("branch") or f"{envs[other]['codename']}-b"
        return f"duplicate {what}"
    shape = draw(st.sampled_from(["environments", "env-item", "promotion", "no-promotion", "no-codename"]))
    if shape == "environments":
        doc["environments"] = draw(st.one_of(NOT_LISTS, st.just([])))
    elif shape == "env-item":
        envs[index] = draw(st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
    elif shape == "promotion":
        doc["promotion"] = draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.text(max_size=5)))
    elif shape == "no-promotion":
        del doc["promotion"]
    else:
        del envs[index]["codename"]
    return shape


@st.composite
def broken_registries(draw: st.DrawFn) -> tuple[str, list[str]]:
    doc = copy.deepcopy(REFERENCE)
    done = []
    for _ in range(draw(st.integers(1, 3))):
        if not isinstance(doc.get("environments"), list) or not isinstance(doc.get("promotion"), dict):
            break
        if len(doc["environments"]) < 2 or not all(
            isinstance(e, dict) and "codename" in e for e in doc["environments"]
        ):
            break
        done.append(draw(mutation(doc)))
    style = draw(st.sampled_from(["block", "flow"]))
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=(style == "flow"), allow_unicode=True), done


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=broken_registries())
def test_mutated_registries_exit_2_with_file_and_line(
    gitops_repo: GitopsRepo, tmp_path: Path, case: tuple[str, list[str]]
) -> None:
    text, mutations = case
    registry = tmp_path / "environments.yaml"
    registry.write_text(text, encoding="utf-8")
    result = promote_with_registry(gitops_repo, registry)
    assert_registry_error(result, str(registry))


@st.composite
def duplicated_key_registries(draw: st.DrawFn) -> str:
    """A key written twice in one mapping (only visible in the text)."""
    lines = REGISTRY.splitlines(keepends=True)
    candidates = [i for i, line in enumerate(lines) if re.match(r"^\s+(name|audience|persistence|order):", line)]
    i = draw(st.sampled_from(candidates))
    return "".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=duplicated_key_registries())
def test_duplicate_keys_exit_2_with_file_and_line(gitops_repo: GitopsRepo, tmp_path: Path, text: str) -> None:
    registry = tmp_path / "environments.yaml"
    registry.write_text(text)
    assert_registry_error(promote_with_registry(gitops_repo, registry), str(registry))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, len(REGISTRY.encode())), junk=st.binary(min_size=1, max_size=8))
def test_random_bytes_in_the_registry_never_crash(
    gitops_repo: GitopsRepo, tmp_path: Path, position: int, junk: bytes
) -> None:
    data = REGISTRY.encode()
    registry = tmp_path / "environments.yaml"
    registry.write_bytes(data[:position] + junk + data[position:])
    result = promote_with_registry(gitops_repo, registry)
    assert result.exit_code in (0, 2), result.stderr  # some insertions are still a valid registry
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS_INVALID.glob("*.yaml")))
def test_yaml_test_suite_invalid_documents_as_registry(gitops_repo: GitopsRepo, tmp_path: Path, case: str) -> None:
    registry = tmp_path / case
    registry.write_bytes((CORPUS_INVALID / case).read_bytes())
    assert_registry_error(promote_with_registry(gitops_repo, registry), str(registry))


def test_invalid_registry_committed_on_the_source_names_branch_file_and_line(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"environments.yaml": REGISTRY.replace("persistence: ephemeral", "persistence: forever", 1)})
    result = run_cli(repo.path, "promote", "dev", "stg")
    assert_registry_error(result, "dev:environments.yaml")


# ---- YAML bombs ---------------------------------------------------------------------------------

LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['lol'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi", strict=True)
)


@pytest.mark.parametrize(
    "where",
    ["availability", "codename", "branch", "freeze", "order", "unused"],
)
def test_billion_laughs_in_the_registry_is_refused_quickly(tmp_path: Path, where: str) -> None:
    """Quoting a bomb's value in an error message would never end: the loader refuses it first."""
    body = {
        "availability": REGISTRY.replace('availability: "90%"', "availability: *i"),
        "codename": REGISTRY.replace("codename: stg", "codename: *i"),
        "branch": REGISTRY.replace("branch: dev ", "branch: *i "),
        "freeze": REGISTRY.replace(
            "persistence: ephemeral\n    backups: false\n  - codename: prd",
            "persistence: ephemeral\n    backups: false\n    freeze: *i\n  - codename: prd",
        ),
        "order": REGISTRY.replace("order: [dev, stg, prd]", "order: *i"),
        "unused": REGISTRY,
    }[where]
    assert body != REGISTRY or where == "unused"
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"environments.yaml": LAUGHS + body})
    result = run_gitops(repo.path, "promote", "dev", "stg", timeout=30)  # a hang fails here
    assert result.code == 2, result.stderr
    assert re.search(r"dev:environments\.yaml:\d+:\d+: refusing a document that expands", result.stderr), result.stderr
    assert len(result.stderr) < 2000


def test_deeply_nested_registry_is_refused_with_a_line(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    registry = tmp_path / "environments.yaml"
    registry.write_text(REGISTRY + "extra: " + "[" * 3000 + "]" * 3000 + "\n")
    result = promote_with_registry(gitops_repo, registry)
    assert_registry_error(result, str(registry))
    assert "nests deeper than" in result.stderr


def test_registry_that_is_not_utf8_names_the_line(gitops_repo: GitopsRepo, tmp_path: Path) -> None:
    registry = tmp_path / "environments.yaml"
    registry.write_bytes(REGISTRY.encode().replace(b"Staging", b"Stag\xe9ing"))
    result = promote_with_registry(gitops_repo, registry)
    assert_registry_error(result, str(registry))
    assert "not UTF-8" in result.stderr


# ---- a 100 MB blob ------------------------------------------------------------------------------

MEASURE = r"""
import atexit, resource, runpy, sys

def report():
    # VmHWM is this process's own peak: ru_maxrss survives exec, so it would report the peak
    # of the pytest worker that forked us.
    status = open("/proc/self/status").read()
    self_kb = int(status.split("VmHWM:")[1].split()[0])
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\nRSS self={self_kb} children={children_kb}\n")

atexit.register(report)  # the CLI ends the process itself (cli._leave), after the exit functions
sys.argv = ["gitops", *sys.argv[1:]]
runpy.run_module("gitops_promote", run_name="__main__")
"""


def measured_promotion(cwd: Path, *args: str) -> tuple[int, int, int, str]:
    """Run a promotion in a fresh interpreter; its peak RSS and its git children's (KiB)."""
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", MEASURE, "-C", str(cwd), "promote", "dev", "stg", *args],
        capture_output=True,
        check=False,
        timeout=120,
    )
    stderr = proc.stderr.decode(errors="replace")
    found = re.search(r"RSS self=(\d+) children=(\d+)", stderr)
    assert found, stderr
    return proc.returncode, int(found.group(1)), int(found.group(2)), stderr


def write_big_blob(repo: Path, size: int) -> str:
    """A blob of `size` bytes written by git itself, streamed from a file (not held in memory)."""
    path = repo.parent / "big.bin"
    with path.open("wb") as out:
        out.truncate(size)  # zeros: quick to write and to compress, still `size` bytes to load
    return git(repo, "hash-object", "-w", "--no-filters", str(path))


@pytest.mark.slow
def test_a_100mb_blob_is_never_loaded(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "x: 1\n"}, "small change")
    code, baseline, _, err = measured_promotion(repo.path)
    assert code == 0, err
    big = write_big_blob(repo.path, 100 * 1024 * 1024)
    with_blob = repo.commit("dev", {"apps/api/values.yaml": "x: 2\n"}, "small change")
    tree_of = git(repo.path, "rev-parse", f"{with_blob}^{{tree}}")
    entries = git(repo.path, "ls-tree", tree_of) + f"\n100644 blob {big}\tbig.bin"
    new_tree = git(repo.path, "mktree", input=entries.encode())
    commit = git(repo.path, "commit-tree", "-p", with_blob, "-m", "add a 100 MB blob", new_tree)
    git(repo.path, "update-ref", "refs/heads/dev", commit)

    code, self_kb, children_kb, err = measured_promotion(repo.path)
    assert code == 0, err
    assert repo.tree("stg")["big.bin"] == ("100644", big)
    # the promotion (python and every git it ran) stays far below the blob's 100 MB
    print(f"peak RSS: baseline {baseline} KiB, with the blob {self_kb} KiB, git children {children_kb} KiB")
    assert self_kb < baseline + 20 * 1024, (self_kb, baseline)
    assert self_kb < 90 * 1024 and children_kb < 40 * 1024, (self_kb, children_kb)


# ---- bytes promoted exactly: binary, CRLF, BOM, non-UTF-8 names, symlinks, submodules --------------

GITLINK = "1234567890abcdef1234567890abcdef12345678"
ODD_FILES: dict[str, Any] = {
    "apps/api/logo.png": bytes(range(256)) * 4 + b"\0\r\n\x1a",
    "apps/api/values.yaml": b"image:\r\n  tag: '1.1.0'\r\n",
    "apps/api/templates/configmap.yaml": b"\xef\xbb\xbfkind: ConfigMap\r\ndata: {}\n",
    "apps/api/caf\udce9-latin1.yaml": b"name: caf\xe9\n",
    "apps/api/\u65e5\u672c.yaml": "name: \u65e5\u672c\n".encode(),
    "apps/api/link-outside": ("120000", b"../../../../etc/passwd"),
    "apps/api/link-absolute": ("120000", b"/etc/shadow"),
    "apps/api/link-dir": ("120000", b".."),
    "vendor/lib": ("160000", GITLINK),
    ".gitmodules": b'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = https://example.invalid/lib.git\n',
}


def commit_odd_files(repo: GitopsRepo) -> None:
    from gitops_promote.adapters.git import Repository
    from gitops_promote.adapters.scaffold import commit_changes, set_branch
    from gitops_promote.core.tree import TreeEntry

    files = {p: v for p, v in ODD_FILES.items() if not (isinstance(v, tuple) and v[0] == "160000")}
    with Repository(repo.path) as handle:
        parent = handle.resolve_commit("refs/heads/dev")
        assert parent
        sha = commit_changes(handle, parent, files, "odd files")
        entries = dict(handle.ls_tree(sha))
        entries["vendor/lib"] = TreeEntry("160000", GITLINK)
        sha = handle.commit_tree(handle.write_tree(entries), [sha], "a submodule")
        set_branch(handle, "dev", sha)


def odd_paths() -> list[bytes]:
    return [p.encode("utf-8", "surrogateescape") for p in ODD_FILES]


def assert_promoted_byte_exact(repo: Path) -> None:
    dev, stg = tree(repo, "refs/heads/dev"), tree(repo, "refs/heads/stg")
    for path in odd_paths():
        assert path in stg, path
        assert stg[path] == dev[path], path
    assert stg[b"vendor/lib"] == (b"160000", GITLINK.encode())
    assert stg[b"apps/api/link-outside"][0] == b"120000"
    assert git(repo, "cat-file", "blob", stg[b"apps/api/link-outside"][1].decode()) == "../../../../etc/passwd"
    assert b"apps/api/caf\xe9-latin1.yaml" in stg


def test_odd_bytes_and_entries_are_promoted_exactly_over_git_daemon(daemon_remote: DaemonRemote) -> None:
    r = daemon_remote
    commit_odd_files(r.remote)
    worktree_before = git(r.clone.path, "status", "--porcelain=v1", "--ignored")
    result = run_gitops(r.clone.path, "promote", "dev", "stg", "-o", "json")
    assert result.code == 0, result.stderr
    assert_promoted_byte_exact(r.remote.path)
    assert git(r.clone.path, "status", "--porcelain=v1", "--ignored") == worktree_before
    assert not (r.clone.path / "apps" / "api" / "link-outside").exists()  # nothing checked out, nothing followed
    paths = [
        f["path"] for f in json.loads(result.stdout.encode(errors="surrogateescape").decode(errors="replace"))["files"]
    ]
    assert any(p.endswith("-latin1.yaml") for p in paths) and "vendor/lib" in paths


def test_odd_bytes_and_entries_are_promoted_exactly_locally(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    commit_odd_files(repo)
    result = run_gitops(repo.path, "promote", "dev", "stg")
    assert result.code == 0, result.stderr
    assert_promoted_byte_exact(repo.path)


@pytest.mark.parametrize("output", ["text", "json"])
def test_non_utf8_file_names_are_printed_escaped(tmp_path: Path, output: str) -> None:
    """With a strict UTF-8 stdout (a UTF-8 locale) a non-UTF-8 name once ended in exit 4.

    Output stays valid UTF-8 (issue 12): text shows the byte as `\\xe9`, JSON carries it as
    the surrogateescape `\\udce9` (docs/json-output.md)."""
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    commit_odd_files(repo)
    proc = subprocess.run(  # noqa: S603
        gitops_argv(repo.path, "promote", "dev", "stg", "--dry-run", "-o", output),
        capture_output=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    shown = proc.stdout.decode("utf-8")
    if output == "json":
        assert "apps/api/caf\udce9-latin1.yaml" in {f["path"] for f in json.loads(shown)["files"]}
    else:
        assert "apps/api/caf\\xe9-latin1.yaml" in shown


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf"])
def test_registry_with_bom_or_crlf_parses_and_is_promoted_byte_exact(tmp_path: Path, variant: str) -> None:
    data = REGISTRY.encode()
    if "crlf" in variant:
        data = data.replace(b"\n", b"\r\n")
    if "bom" in variant:
        data = b"\xef\xbb\xbf" + data
    files = standard_files()
    files["environments.yaml"] = data
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    repo.commit("dev", {"apps/api/values.yaml": "image:\n  tag: '1.1.0'\n"})
    result = run_gitops(repo.path, "promote", "dev", "stg")
    assert result.code == 0, result.stderr
    assert repo.read("stg", "environments.yaml") == data
    registry = tmp_path / "environments.yaml"
    registry.write_bytes(data)
    assert run_cli(repo.path, "promote", "stg", "prd", "--dry-run", "--registry", str(registry)).exit_code == 0


# ---- names that look like options or paths ------------------------------------------------------


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


OPTION_LIKE = "--upload-pack=touch {marker}"


@pytest.mark.parametrize(
    "args",
    [
        ["promote", "--", OPTION_LIKE, "stg"],
        ["promote", "dev", "--", OPTION_LIKE],
        ["promote", OPTION_LIKE, "stg"],
        ["promote", "dev", "stg", "--remote", OPTION_LIKE],
        ["promote", "dev", "stg", f"--remote={OPTION_LIKE}"],
        ["promote", "dev", "stg", "--ref", OPTION_LIKE],
        ["promote", "dev", "stg", f"--ref={OPTION_LIKE}"],
        ["promote", "--", "-dev", "stg"],
        ["promote", "../x", "stg"],
        ["promote", "dev", "../stg"],
        ["promote", "dev/../stg", "prd"],
        ["promote", "stg\n", "prd"],
        ["promote", "dev", "stg\n"],
        ["promote", "dev\x00", "stg"],
        ["promote", "refs/heads/dev", "stg"],
    ],
    ids=lambda a: repr(" ".join(a))[:60],
)
def test_option_or_path_like_names_exit_2_and_run_nothing(
    daemon_remote: DaemonRemote, marker: Path, args: list[str]
) -> None:
    r = daemon_remote
    r.remote.commit("dev", {"apps/api/values.yaml": "x: 1\n"})
    stg = r.remote.head("stg")
    argv = [a.replace("{marker}", str(marker)) for a in args]
    if any("\x00" in a for a in argv):  # cannot be an exec argument: in-process only
        result = run_cli(r.clone.path, *argv)
        code, stderr = result.exit_code, result.stderr
    else:
        run = run_gitops(r.clone.path, *argv)
        code, stderr = run.code, run.stderr
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert not marker.exists()
    assert r.remote.head("stg") == stg


def test_option_like_remote_from_the_environment_is_refused(
    daemon_remote: DaemonRemote, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_REMOTE", OPTION_LIKE.format(marker=marker))
    result = run_cli(daemon_remote.clone.path, "promote", "dev", "stg")
    assert result.exit_code == 2, result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("branch", ["--upload-pack=touch {marker}", "../x", "stg\n", "-stg", "x..y", "a b"])
def test_option_or_path_like_branches_in_the_registry_exit_2(tmp_path: Path, marker: Path, branch: str) -> None:
    bad = branch.replace("{marker}", str(marker))
    doc = copy.deepcopy(REFERENCE)
    doc["environments"][1]["branch"] = bad
    files = standard_files()
    files["environments.yaml"] = yaml.safe_dump(doc, sort_keys=False)
    repo = make_gitops_repo(tmp_path / "repo", files, bare=True)
    result = run_gitops(repo.path, "promote", "dev", "stg")
    assert result.code == 2, result.stderr
    assert re.search(r"environments\.yaml:\d+:\d+: invalid branch name", result.stderr), result.stderr
    assert not marker.exists()


def test_hostile_remote_url_is_not_executed(daemon_remote: DaemonRemote, marker: Path) -> None:
    """git's own transport policy refuses ext:: URLs; the tool adds no way around it."""
    r = daemon_remote
    git(r.clone.path, "remote", "set-url", "origin", f"ext::sh -c touch% {marker}")
    result = run_gitops(r.clone.path, "promote", "dev", "stg")
    assert result.code == 3, result.stderr
    assert not marker.exists()


# ---- secrets ------------------------------------------------------------------------------------

SECRET = "hunter2-Zq8v-DO-NOT-PRINT"
SECRET_FILES = {
    "apps/api/secret.yaml": f"apiVersion: v1\nkind: Secret\nstringData:\n  password: {SECRET}\n",
    "apps/api/values.yaml": f"image:\n  tag: '1.1.0'\ndb:\n  password: {SECRET}\n",
}


@pytest.mark.parametrize("output", ["text", "json"])
def test_promote_never_prints_file_contents(daemon_remote: DaemonRemote, output: str) -> None:
    r = daemon_remote
    r.remote.commit("dev", SECRET_FILES, "rotate the database password")
    r.remote.commit("stg", {"apps/api/secret.yaml": f"password: stg-{SECRET}\n"}, "direct change")  # drift
    refused = run_gitops(r.clone.path, "promote", "dev", "stg", "-o", output)
    assert refused.code == 1, refused.stderr
    done = run_gitops(r.clone.path, "promote", "dev", "stg", "--discard-drift", "-o", output)
    assert done.code == 0, done.stderr
    for run in (refused, done):
        assert SECRET not in run.stdout + run.stderr


INTERNAL_ERROR = r"""
import sys
from gitops_promote.adapters import git as adapter

def broken_write_tree_from(self, base_tree, changes, *args, **kwargs):
    secret = self.read_file_at(base_tree, "apps/api/values.yaml").decode()
    raise RuntimeError("simulated bug while writing " + str(len(secret)) + " bytes")

adapter.Repository.write_tree_from = broken_write_tree_from
sys.argv = ["gitops", *sys.argv[1:]]
from gitops_promote.cli import main
main()
"""


def test_internal_error_prints_a_plain_traceback_without_locals(tmp_path: Path) -> None:
    repo = make_gitops_repo(tmp_path / "repo", bare=True)
    repo.commit("dev", SECRET_FILES, "rotate")
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", INTERNAL_ERROR, *gitops_argv(repo.path, "promote", "dev", "stg")[3:]],
        capture_output=True,
        check=False,
        timeout=60,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode == 4, stderr
    assert "Traceback (most recent call last)" in stderr and "simulated bug while writing" in stderr
    assert "internal error (RuntimeError)" in stderr
    assert SECRET not in stderr + proc.stdout.decode()
    assert "secret =" not in stderr  # no locals, no rich frames


def test_git_daemon_fixture_serves_over_loopback(git_daemon: GitDaemon, tmp_path: Path) -> None:
    served = serve_gitops_repo(git_daemon, tmp_path)
    assert re.match(r"git://127\.0\.0\.1:\d+/", served.url)
    assert git(served.clone.path, "remote", "get-url", "origin") == served.url
