"""The only place that talks to git.

Every call is an argument list (never a shell string); revisions and paths come after
`--end-of-options`/`--` or through `--stdin` so that user text can never be read as an option.
Hooks are disabled for every invocation (`core.hooksPath=/dev/null`), the inherited `GIT_*`
variables that would redirect git to another repository are scrubbed, and objects are read
through one long-lived `cat-file --batch` session per repository (adapters/catfile.py).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from gitops_promote.adapters import treewriter
from gitops_promote.adapters.catfile import BlobBatch, ObjectReader
from gitops_promote.core.secrets import mask_subject
from gitops_promote.core.signatures import SignatureStatus
from gitops_promote.core.tree import Tree, TreeEntry, iter_parents
from gitops_promote.core.treediff import DiffRecord
from gitops_promote.errors import ConfigError, GitError, UsageError

ZERO_SHA = "0" * 40  # SHA-1's null id; a Repository's own is `repo.zero_sha` (SHA-256: 64 zeros)
OBJECT_ID_LENGTH = {"sha1": 40, "sha256": 64}
# Commits read one by one from the cat-file session before `git log` is asked instead: a
# round trip each (about 0.1 ms here), so 100 of them cost what one `git log` process does.
LINE_WALK_LIMIT = 100
DEFAULT_REMOTE = "origin"  # the remote gitops uses when the repository has it
FETCH_STAMP = "gitops-last-fetch"  # in the git directory: touched after every fetch

# Variables that would point git at another repository, index, object store, config, graft
# or shallow file; a promotion started from inside a git hook (or an IDE) must not inherit
# them. This is the one list (benchmarks/ keep a copy of their own on purpose): everything
# `git rev-parse --local-env-vars` names (tests/test_git_edges.py checks it against the git
# that runs the tests), plus the hook-time and namespace variables.
SCRUBBED_ENV = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
)
_SCRUBBED = SCRUBBED_ENV

SHALLOW_HINT = (
    "fetch the whole history: in GitHub Actions set `fetch-depth: 0` on actions/checkout "
    "(GitLab CI: GIT_DEPTH: 0), or run `git fetch --unshallow`"
)


class CommitInfo(NamedTuple):
    sha: str
    subject: str
    author: str
    date: str
    body: str
    parents: tuple[str, ...]

    def trailers(self) -> dict[str, list[str]]:
        return parse_trailers(self.body)


class CommitChanges(NamedTuple):
    """A commit and the files it changed against its first parent, in git's order: each
    path with its status letter (A, M, D, T)."""

    commit: CommitInfo
    paths: list[str]
    statuses: list[str]


def parse_trailers(message: str) -> dict[str, list[str]]:
    """Trailers of the last paragraph of a commit message (`Key: value` lines)."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if not paragraphs:
        return {}
    found: dict[str, list[str]] = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            return {} if not found else found
        found.setdefault(key, []).append(value.strip())
    return found


# How git reads pathspecs: gitops's are literal (GIT_LITERAL_PATHSPECS), and git refuses to
# combine that with any of these, so a user's own setting would fail every call.
_PATHSPEC_ENV = ("GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and k not in _PATHSPEC_ENV}
    # Never prompt on a terminal for credentials: they come from git's helpers or SSH.
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_ASKPASS", "")
    env["GIT_LITERAL_PATHSPECS"] = "1"
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    if extra:
        env.update(extra)
    return env


_GIT = ("git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotePath=false")
_FULL_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256
MODE_TREE = "040000"
WHAT_TREE_DIFF = "compare two trees"
WHAT_READ_HISTORY = "read history"
# A `diff-tree -r -t -z` record (":<mode> <mode> <id> <id> <status>" NUL "<path>" NUL, decoded),
# or, with --stdin, the "<tree> <tree>" line before each pair's records.
_DIFF_OUTPUT = re.compile(
    r"([0-9a-f]{40,64}) ([0-9a-f]{40,64})\n|:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) [A-Z]\d*\0([^\0]*)\0"
)
# One field per line, the message last: an ident cannot hold a newline (a 0x1f in an author's
# name once shifted every field after it). Read by _commit_record.
_LOG_FORMAT = "%H%n%P%n%an <%ae>%n%aI%n%B"
_LS_TREE_RECORD = re.compile(rb"(\d{6}) [a-z]+ ([0-9a-f]+)\t([^\0]*)\0")


def _commit_record(record: bytes) -> CommitInfo:
    return _commit_fields(_decode(record))


def _commit_fields(record: str) -> CommitInfo:
    sha, parents, author, date, body = record.split("\n", 4)
    date = date[:-1] + "+00:00" if date.endswith("Z") else date  # newer gits write UTC as Z
    # Subjects are shown in every format and copied into promotion commits: a secret pasted
    # into one (`set password=x`) is masked by the one masker, like a diff line.
    return CommitInfo(sha, mask_subject(body.split("\n", 1)[0]), author, date, body, tuple(parents.split()))


def _commits_with_changes(out: bytes) -> list[CommitChanges]:
    """Read `log -z --name-status` with _LOG_FORMAT.

    Split at every NUL, the output holds a commit's record (an id first), then, after a
    newline, its `status`, `path` pairs: a status is one letter, a record never is. The loop
    only steps over the statuses to find where a commit's pairs end; paths and statuses are
    then sliced off as two lists, with no object made per file.
    """
    tokens = _decode(out).split("\0")
    last = len(tokens) - 1  # the output ends with a NUL: the token after it is empty
    found, i = [], 0
    while i < last:
        commit, i = _commit_fields(tokens[i]), i + 1
        start = i
        if i < last and tokens[i].startswith("\n"):
            tokens[i] = tokens[i][1:]
            while i < last and len(tokens[i]) == 1:
                i += 2
        found.append(CommitChanges(commit, tokens[start + 1 : i : 2], tokens[start:i:2]))
    return found


def glob_escape(text: str) -> str:
    """`text` matched literally inside a glob pattern."""
    return re.sub(r"([*?\[\\])", r"\\\1", text)


def _is_object_id(name: str, length: int) -> bool:
    return len(name) == length and name.isascii() and all(c in "0123456789abcdef" for c in name)


def _decode(raw: bytes) -> str:
    # surrogateescape keeps non-UTF-8 file names byte-exact on their way back to git
    return raw.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@contextmanager
def _private_dir() -> Iterator[str]:
    """A temporary directory outside the repository, removed even when Ctrl-C lands mid-way.

    TemporaryDirectory alone leaks its directory when the KeyboardInterrupt arrives inside
    mkdtemp or rmtree; both run with Ctrl-C deferred to the moment they are done.
    """
    tmp = None
    try:
        with _ctrl_c_deferred():
            tmp = tempfile.mkdtemp(prefix="gitops-promote-")
            _LIVE_DIRS.add(tmp)
        yield tmp
    finally:
        if tmp is not None:
            with _ctrl_c_deferred():
                shutil.rmtree(tmp, ignore_errors=True)
                _LIVE_DIRS.discard(tmp)


# Private directories not yet removed; the CLI sweeps them on its way out, a second line of
# defence for an interrupt that lands where no `finally` of ours runs (inside a finalizer).
_LIVE_DIRS: set[str] = set()


def remove_private_dirs() -> None:
    for tmp in list(_LIVE_DIRS):
        shutil.rmtree(tmp, ignore_errors=True)
        _LIVE_DIRS.discard(tmp)


@contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold a SIGINT that arrives during the block and deliver it when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be changed (and only run) in the main thread
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt


class Repository:
    """A git repository (bare or not), addressed by its git directory."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        self._cwd = Path(path)
        if not self._cwd.is_dir():
            raise UsageError(f"{self._cwd} is not a directory", hint="check the -C PATH given")
        out = self._run_raw(
            # --show-cdup (empty outside a work tree) spares a second rev-parse for the top
            [
                "rev-parse",
                "--absolute-git-dir",
                "--is-bare-repository",
                "--is-inside-work-tree",
                "--show-object-format",
                "--is-shallow-repository",
                "--show-cdup",
            ],
            cwd=self._cwd,
            what="open the repository",
            not_a_repo_ok=True,
        )
        if out is None:
            raise UsageError(
                f"{self._cwd.resolve()} is not inside a git repository",
                hint="run gitops from a clone of your GitOps repository, or pass -C PATH",
            )
        git_dir, bare, inside, object_format, shallow, *cdup = [*_decode(out).split("\n"), ""][:6]
        if object_format not in OBJECT_ID_LENGTH:
            raise UsageError(f"{self._cwd} uses the object format {object_format!r}, which gitops does not know")
        # SHA-1 (40 hex digits) or SHA-256 (64): every object id this repository hands out
        self.id_length = OBJECT_ID_LENGTH[object_format]
        self.zero_sha = "0" * self.id_length
        self.shallow = shallow == "true"
        self.git_dir = Path(git_dir)
        self.bare = bare == "true"
        self.work_tree: Path | None = None
        if not self.bare and inside == "true":
            self.work_tree = (self._cwd / cdup[0]).resolve()
        self.objects = ObjectReader(_GIT, str(self.git_dir), git_env())
        # small files read by (commit, path): commits are immutable, so this never goes stale
        self._files_at: dict[tuple[str, str], bytes | None] = {}
        self._branch_refs: list[str] | None = None
        self._config: dict[str, list[str | None]] | None = None
        self._trees: dict[str, treewriter.ReadEntries | None] = {}  # parsed tree objects by id
        # (old, new) -> the files that differ between two commits, read beside a step's diff
        self._changes: dict[tuple[str, str], set[str]] = {}
        self._started: dict[tuple[str | None, ...], _Started] = {}  # diffs and logs begun ahead

    # ---- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.objects.close()
        for started in self._started.values():
            started.close()  # started but never read (the command stopped earlier)
        self._started.clear()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- running git ----------------------------------------------------------------------
    def _exec(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        argv = self._git_argv(args)
        try:
            return subprocess.run(  # noqa: S603 - argument list, no shell
                argv,
                cwd=cwd or self.git_dir,
                input=stdin,
                capture_output=True,
                env=git_env(env),
                check=False,
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed or not on PATH", hint="install git") from exc

    @staticmethod
    def _git_argv(args: Sequence[str]) -> list[str]:
        return ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.quotePath=false", *args]

    def _run_raw(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        what: str = "",
        not_a_repo_ok: bool = False,
        ok_codes: Iterable[int] = (0,),
    ) -> bytes | None:
        proc = self._exec(args, cwd=cwd, stdin=stdin, env=env)
        if proc.returncode in tuple(ok_codes):
            return proc.stdout
        if not_a_repo_ok and b"not a git repository" in proc.stderr:
            return None
        message = _decode(proc.stderr).strip() or f"exit status {proc.returncode}"
        raise GitError(f"git could not {what or args[0]}: {message}")

    def run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        what: str = "",
    ) -> bytes:
        out = self._run_raw(args, stdin=stdin, env=env, what=what)
        assert out is not None
        return out

    # ---- objects --------------------------------------------------------------------------
    def resolve_commit(self, rev: str) -> str | None:
        """Full sha of the commit `rev` names, or None when there is none.

        Asked of the run's cat-file session (the same name resolution as `rev-parse`, and a
        name read from stdin can never be an option): a command resolves a dozen refs and
        commits, which used to be a dozen processes.
        """
        return self.resolve_commits([rev])[rev]

    def resolve_commits(self, revs: Iterable[str]) -> dict[str, str | None]:
        """Many names at once (every branch of the registry in one round trip)."""
        wanted = list(dict.fromkeys(revs))
        names = {rev: f"{rev}^{{commit}}" for rev in wanted if rev and "\n" not in rev}
        infos = self.objects.info_many(names.values())
        found: dict[str, str | None] = {}
        for rev in wanted:
            info = infos.get(names.get(rev, ""))
            found[rev] = (
                info[0] if info is not None and info[1] == "commit" and len(info[0]) == self.id_length else None
            )
        return found

    def ls_tree(self, commit: str, under: Sequence[str] = ()) -> dict[str, TreeEntry]:
        """Every blob, symlink and gitlink of a commit's tree, by path; with `under`, only those
        at or below these paths (literal pathspecs: a listing the size of those directories)."""
        pathspecs = ["--", *under] if under else []
        out = self.run(
            ["ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit, *pathspecs], what="list a tree"
        )
        # One regex pass: the listing of a 14,000-file repository is parsed in a few ms.
        return {
            path.decode("utf-8", "surrogateescape"): TreeEntry(mode.decode(), sha.decode())
            for mode, sha, path in _LS_TREE_RECORD.findall(out)
        }

    def tree_diff(
        self, source: str, target: str, since: str | None = None, target_since: str | None = None
    ) -> list[DiffRecord]:
        """Every path that differs between two trees, directories included (`diff-tree -r -t`).

        The input of `core.treediff.plan_delta`: the differing files, and for each directory
        on their way whether the source has it (rule c) or a file there (the clash check),
        without listing either tree. One process; its output grows with the difference.

        The same process can compare two more pairs, whose changed files are then known
        without walking either tree in Python (`recorded_changes`, `changed_among`): with
        `since` (the source's content at the last promotion), `since` with `source`, which
        files the source changed since then; with `target_since` (the last promotion's
        commit), what the target changed since then.
        """
        args, stdin, pairs = self._tree_diff_call(source, target, since, target_since)
        started = self._started.pop((source, target, since, target_since), None)
        out = started.output() if started is not None else self.run(args, stdin=stdin, what=WHAT_TREE_DIFF)
        found = _DIFF_OUTPUT.findall(_decode_paths(out))
        if not pairs:
            return _records(found)
        # Each pair's records follow a "<tree> <tree>" line, matched in the same pass as the
        # records (they follow one another: a path is only ever read inside its record)
        heads = [index for index, match in enumerate(found) if match[0]]
        if len(heads) != len(pairs) or heads[:1] != [0] or [found[h][:2] for h in heads] != [ids for _c, ids in pairs]:
            return self.tree_diff(source, target)  # a git that answers otherwise: the one pair alone
        spans = [found[begin + 1 : end] for begin, end in zip(heads, [*heads[1:], len(found)], strict=True)]
        step = 1 if since else 0  # the pair of source and target; the others are recorded
        for index, ((commits, _ids), span) in enumerate(zip(pairs, spans, strict=True)):
            if index != step:  # files, not directories
                self._changes[commits] = {m[6] for m in span if MODE_TREE not in (m[2], m[3])}
        return _records(spans[step])

    def recorded_changes(self, old: str, new: str) -> set[str] | None:
        """The files that differ between two commits' trees, when a step's diff-tree compared
        them too (`tree_diff`); else None: not known without asking git."""
        return self._changes.get((old, new))

    def start_tree_diff(
        self, source: str, target: str, since: str | None = None, target_since: str | None = None
    ) -> None:
        """Start, in the background, the diff-tree that `tree_diff` with the same arguments
        will read: git compares these trees while the caller works on something else (status
        plans one step while git compares the next). Its output goes to an anonymous file."""
        key = (source, target, since, target_since)
        if key not in self._started:
            args, stdin, _pairs = self._tree_diff_call(source, target, since, target_since)
            self._started[key] = _Started(self._git_argv(args), str(self.git_dir), git_env(), stdin, WHAT_TREE_DIFF)

    def _tree_diff_call(
        self, source: str, target: str, since: str | None, target_since: str | None
    ) -> tuple[list[str], bytes | None, list[tuple[tuple[str, str], tuple[str, str]]]]:
        """(arguments, standard input, compared pairs) of the diff-tree of `tree_diff`: with
        `since` or `target_since`, `diff-tree --stdin` of each pair of trees in turn, every
        pair given as its (commits, tree ids)."""
        compared = [*([(since, source)] if since else []), (source, target)]
        compared += [(target_since, target)] if target_since else []
        if len(compared) == 1:
            args = ["diff-tree", "-r", "-t", "-z", "--no-renames", "--no-commit-id", "--end-of-options", source, target]
            return args, None, []
        commits = list(dict.fromkeys(c for pair in compared for c in pair))
        infos = self.objects.info_many([f"{c}^{{tree}}" for c in commits])
        trees = {c: info[0] for c in commits if (info := infos.get(f"{c}^{{tree}}")) is not None and "\n" not in c}
        if len(trees) != len(commits):
            raise GitError(f"git could not find the trees of {', '.join(commits)}")
        pairs = [(pair, (trees[pair[0]], trees[pair[1]])) for pair in compared]
        stdin = "".join(f"{old} {new}\n" for _pair, (old, new) in pairs).encode()
        return ["diff-tree", "--stdin", "-r", "-t", "-z", "--no-renames"], stdin, pairs

    def tree_of(self, commit: str) -> str:
        """The id of a commit's tree (asked of the batch-check session, not a new process)."""
        info = self.objects.info_many([f"{commit}^{{tree}}"]).get(f"{commit}^{{tree}}")
        if info is None or "\n" in commit:
            raise GitError(f"git could not find the tree of {commit}")
        return info[0]

    def read_blob(self, sha: str) -> bytes:
        return self._object(sha)[1]

    def _object(self, name: str) -> tuple[str, bytes]:
        got = self.objects.read_many([name])[name]
        if got is None:
            raise GitError(f"git could not read object {name}", hint="check the repository with git fsck")
        return got

    def blob_batch(self, shas: Sequence[str]) -> BlobBatch:
        """Many blobs read by one `cat-file --batch --buffer` started now, in the background
        (the caller goes on; `chunks()` follows git's answers): parity's cold run reads
        100,000 this way, four times faster than through the session."""
        return BlobBatch(_GIT, str(self.git_dir), git_env(), shas)

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Many blobs through the run's one `cat-file --batch` session (no process per call)."""
        found = self.objects.read_many(list(shas))
        missing = [sha for sha, got in found.items() if got is None]
        if missing:
            raise GitError(f"git could not read object {missing[0]}", hint="check the repository with git fsck")
        return {sha: got[1] for sha, got in found.items() if got is not None}

    def blob_sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """Object sizes from the `cat-file --batch-check` session (the objects stay unread)."""
        return {sha: got[2] for sha, got in self.objects.info_many(list(shas)).items() if got is not None}

    def read_file_at(self, commit: str, path: str) -> bytes | None:
        """The bytes of `path` in `commit`, or None when the commit has no such blob."""
        key = (commit, path)
        if key not in self._files_at:
            got = self.objects.read_many([f"{commit}:{path}"])[f"{commit}:{path}"] if "\n" not in path else None
            self._files_at[key] = got[1] if got is not None and got[0] == "blob" else None
        return self._files_at[key]

    def types_in(self, places: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """(tree or commit, path) -> the type of what is there ("blob", "tree", "commit";
        None: nothing, or a submodule whose commit is not in this repository).

        From the batch-check session, all in one round: git resolves `<tree>:<path>` itself,
        so no tree is read in Python and no listing is made. A path git would not read
        literally there (one with a newline, or starting with ./ or ../, which git takes as
        relative to the working directory) is left out of the answer.
        """
        wanted = [(tree, path) for tree, path in dict.fromkeys(places) if _literal_after_colon(path)]
        infos = self.objects.info_many([f"{tree}:{path}" for tree, path in wanted])
        return {place: None if (info := infos.get(f"{place[0]}:{place[1]}")) is None else info[1] for place in wanted}

    def write_tree_from(self, base_tree: str, changes: Mapping[str, TreeEntry | None]) -> str:
        """The tree `base_tree` becomes with `changes` (path -> new entry, None: removed).

        No index: only the trees on the changed paths are read and written again, by one
        `mktree --batch`; every other tree keeps its id (adapters/treewriter.py).
        """
        if not changes:
            return base_tree
        dirs = treewriter.touched_directories(changes)
        base = treewriter.base_entries(self._read_trees, base_tree, dirs)
        trees = treewriter.rebuild(base, changes, len(base_tree) // 2)
        out = self.run(["mktree", "-z", "--batch"], stdin=treewriter.mktree_input(trees), what="write the tree")
        written = _decode(out).split()
        if written != [t.oid for t in trees]:
            raise RuntimeError(f"git wrote trees {written[:3]}..., expected {[t.oid for t in trees][:3]}...")
        return trees[-1].oid

    def _read_trees(self, ids: Sequence[str]) -> dict[str, treewriter.ReadEntries | None]:
        """Parsed trees by id, each read and parsed once per run (an id names one content:
        the 20,000-entry `apps/` tree is on the way to every lookup)."""
        cache = self._trees
        wanted = [oid for oid in dict.fromkeys(ids) if oid not in cache]
        for oid, got in self.objects.read_many(wanted).items() if wanted else ():
            cache[oid] = treewriter.read_entries(got[1], self.id_length // 2) if got and got[0] == "tree" else None
        return {oid: cache[oid] for oid in ids}

    def ls_path(self, commit: str, path: str) -> TreeEntry | None:
        return self.entries_at(commit, [path])[path]

    def entries_at(
        self, commit: str, paths: Iterable[str], starts: Mapping[str, str] | None = None
    ) -> dict[str, TreeEntry | None]:
        """path -> its entry in `commit` (mode and id, as `ls-tree` gives them; None: absent).

        Only the trees on the way to the paths are read, through the run's cat-file session
        (one round per depth): a targeted lookup, never a listing of the whole tree. `starts`
        (directory -> its tree id in `commit`, known already, e.g. from a diff's records) lets
        each lookup begin at the deepest of them on its way instead of at the root.
        """
        wanted = list(dict.fromkeys(paths))
        if not wanted:
            return {}
        known = dict(starts or {})
        dirs: set[str] = set()
        for path in wanted:
            for directory in (*iter_parents(path), ""):
                if directory in dirs:
                    break  # this directory's way up is walked already
                dirs.add(directory)
                if directory in known:
                    break
        if "" in dirs and "" not in known:
            known[""] = self.tree_of(commit)
        found = treewriter.base_entries(self._read_trees, {d: known[d] for d in dirs if d in known}, dirs)
        result: dict[str, TreeEntry | None] = {}
        for path in wanted:
            parent, _, name = path.rpartition("/")
            raw = found.get(parent, {}).get(_encode(name))
            result[path] = None if raw is None else TreeEntry(_decode(raw[0]).rjust(6, "0"), raw[1].hex())
        return result

    def changed_among(self, old: str, new: str, paths: Iterable[str], max_trees: int | None = None) -> set[str] | None:
        """Which of `paths` have another entry in `new` than in `old`.

        Both trees are walked down together, one depth at a time through the run's cat-file
        session, and only into directories whose ids differ: thousands of paths of which one
        changed cost the trees on the way to that one (a diff-tree, restricted, in-process).
        None when the walk would read more than `max_trees` trees (then one `diff-tree`, in
        C, is cheaper: changed_paths).
        """
        wanted = list(dict.fromkeys(paths))
        if (old, new) in self._changes:  # compared beside a step's diff already
            return {path for path in wanted if path in self._changes[(old, new)]}
        dirs = treewriter.touched_directories(wanted)
        sides: dict[str, tuple[str | None, str | None]] = {"": (self.tree_of(old), self.tree_of(new))}
        parsed: dict[str, tuple[treewriter.ReadEntries, treewriter.ReadEntries]] = {}
        budget = max_trees
        for depth in range(max(d.count("/") + 1 if d else 0 for d in dirs) + 1):
            level = [d for d in sides if (d.count("/") + 1 if d else 0) == depth]
            ids = [oid for d in level for oid in sides[d] if oid]
            if budget is not None:
                budget -= len(ids)
                if budget < 0:
                    return None
            trees = self._read_trees(ids)
            for directory in level:
                a, b = sides[directory]
                # `is None`, not truthiness: a big tree's length would parse all of it
                old_tree, new_tree = (trees.get(a) if a else None), (trees.get(b) if b else None)
                parsed[directory] = (old_tree if old_tree is not None else {}, new_tree if new_tree is not None else {})
            for directory in [d for d in dirs if d and d.count("/") == depth and d.rpartition("/")[0] in parsed]:
                key = _encode(directory.rpartition("/")[2])
                a_entries, b_entries = parsed[directory.rpartition("/")[0]]
                before, after = a_entries.get(key), b_entries.get(key)
                if before != after:  # the same id on both sides: nothing under it changed
                    sides[directory] = (_tree_id(before), _tree_id(after))
        changed = set()
        for path in wanted:
            parent, _, name = path.rpartition("/")
            if parent in parsed:
                a_entries, b_entries = parsed[parent]
                if a_entries.get(_encode(name)) != b_entries.get(_encode(name)):
                    changed.add(path)
        return changed

    def blob_id(self, data: bytes) -> str:
        """The id `data` has (or would have) as a blob, without writing it."""
        return _decode(self.run(["hash-object", "--no-filters", "--stdin"], stdin=data)).strip()

    def write_blob(self, data: bytes) -> str:
        out = self.run(["hash-object", "-w", "--no-filters", "--stdin"], stdin=data)
        return _decode(out).strip()

    def write_blobs(self, contents: Sequence[bytes]) -> list[str]:
        """Write many blobs with one `hash-object --stdin-paths` (one process, not one per file)."""
        if len(contents) < 2:
            return [self.write_blob(data) for data in contents]
        with _private_dir() as tmp:
            paths = []
            for index, data in enumerate(contents):
                path = os.path.join(tmp, str(index))
                with open(path, "wb") as handle:
                    handle.write(data)
                paths.append(path)
            out = self.run(
                ["hash-object", "-w", "--no-filters", "--stdin-paths"],
                stdin="\n".join(paths).encode() + b"\n",
                what="write blobs",
            )
        return _decode(out).split()

    def merge_file(self, ours: bytes, base: bytes, theirs: bytes) -> bytes | None:
        """Three-way merge of one file's contents (`git merge-file`); None when they conflict.

        git 2.39's merge-file reads files, not blobs: the three versions go to a private
        directory outside the repository. No working tree, index or hook is involved.
        """
        with _private_dir() as tmp:
            paths = []
            for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
                path = os.path.join(tmp, name)
                with open(path, "wb") as handle:
                    handle.write(data)
                paths.append(path)
            proc = self._exec(["merge-file", "-p", "--", *paths])
        if proc.returncode == 0:
            return proc.stdout
        if 0 < proc.returncode < 128:
            return None  # the number of conflicts
        raise GitError(f"git could not merge a file: {_decode(proc.stderr).strip() or proc.returncode}")

    def write_tree(self, entries: Tree, base: tuple[str, Tree] | None = None) -> str:
        """Write a tree holding exactly `entries` (nested trees made by git) and return its id.

        With `base` (a commit and its listing), the private index starts from that commit's
        tree (`read-tree`, in C) and only the entries that differ are sent: a promotion is the
        source's tree with a few env files swapped in, so this is most of the work saved.
        The index lives in a temporary directory outside the repository: an interrupted run
        leaves nothing in the repository's way (loose objects it wrote are unreferenced).
        """
        with _private_dir() as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            if base is not None:
                self.run(["read-tree", "--end-of-options", base[0]], env=env, what="read the base tree")
            records = _index_records(entries, base[1] if base else {}, self.zero_sha)
            if records:
                self.run(["update-index", "-z", "--index-info"], stdin=records, env=env, what="build the tree")
            return _decode(self.run(["write-tree"], env=env, what="write the tree")).strip()

    def commit_tree(self, tree: str, parents: Sequence[str], message: str, sign: bool | None = False) -> str:
        """Write a commit; `sign` True/False forces signing, None signs as `git commit` would.

        Signing goes through git itself (`-S`), so gpg.format, user.signingkey, gpg.program,
        gpg.ssh.program and the gpg/ssh agents work as configured.
        """
        signing = self.signing_configured() if sign is None else sign
        args = ["commit-tree", "-S" if signing else "--no-gpg-sign"]
        for parent in parents:
            args += ["-p", parent]
        args.append(tree)
        proc = self._exec(args, stdin=_encode(message))
        if proc.returncode == 0:
            return _decode(proc.stdout).strip()
        message = _decode(proc.stderr).strip() or f"exit status {proc.returncode}"
        if signing:
            raise GitError(
                f"git could not sign the commit: {message}",
                hint="check gpg.format and user.signingkey (git config), that the key or its agent is "
                "available, or pass --no-sign",
            )
        raise GitError(f"git could not create the promotion commit: {message}")

    def config_bool(self, key: str) -> bool:
        """A boolean setting as git reads it (the last value wins; a bare key is true)."""
        values = self.config().get(key.lower())
        if not values:
            return False
        value = values[-1]
        if value is None:
            return True
        text = value.strip().lower()
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off", ""):
            return False
        try:
            return int(text, 0) != 0
        except ValueError:
            raise ConfigError(
                f"git setting {key}={value!r} is not a boolean", hint=f"fix it: git config {key} true"
            ) from None

    def signing_configured(self) -> bool:
        """Would `git commit` sign here? (commit.gpgSign; commit-tree itself ignores it.)"""
        return self.config_bool("commit.gpgsign")

    def signature_status(self, commits: Sequence[str], allowed_signers: bytes) -> list[SignatureStatus]:
        """Each commit's signature as git verifies it.

        ssh signatures are checked against `allowed_signers` alone (the target's file, never a
        setting of this machine); openpgp and x509 ones against the keyring git uses (GNUPGHOME).
        """
        commits = [c for c in commits if _FULL_SHA.fullmatch(c)]  # --stdin reads '-…' as options
        if not commits:
            return []
        with _private_dir() as tmp:
            signers = os.path.join(tmp, "allowed_signers")
            with open(signers, "wb") as handle:
                handle.write(allowed_signers)
            out = self.run(
                [
                    "-c",
                    f"gpg.ssh.allowedSignersFile={signers}",
                    "log",
                    "-z",
                    "--no-show-signature",  # log.showSignature=true would mix gpg's text into stdout
                    "--no-walk=unsorted",
                    "--stdin",
                    # one field per line: an ident cannot hold a newline, and the signer
                    # (from the key, the signer's words) comes last, whatever it holds
                    "--format=%H%n%G?%n%GK%n%an <%ae>%n%GS",
                ],
                stdin=("\n".join(commits) + "\n").encode(),
                what="check signatures",
            )
        found = {}
        for record in out.split(b"\0"):
            if record.strip():
                sha, code, key, author, signer = _decode(record.lstrip(b"\n")).split("\n", 4)
                found[sha] = SignatureStatus(sha, author, code, key, signer)
        self._signed_but_unchecked(found)
        return [found[c] for c in commits if c in found]

    def _signed_but_unchecked(self, found: dict[str, SignatureStatus]) -> None:
        """git says N ("no signature") for an x509 signature gpgsm has no certificate for: a
        commit that carries a signature is "cannot be checked" (E), not "unsigned"."""
        unsigned = [sha for sha, status in found.items() if status.code == "N"]
        for sha, raw in self.read_blobs(unsigned).items():  # cat-file --batch reads commits too
            header = raw.split(b"\n\n", 1)[0]
            if b"\ngpgsig " in header or b"\ngpgsig-sha256 " in header:
                found[sha] = replace(found[sha], code="E")

    # ---- refs -----------------------------------------------------------------------------
    def update_ref(self, ref: str, new: str, old: str | None, reason: str) -> bool:
        """Compare-and-swap `ref` from `old` (None: must not exist) to `new`.

        Returns False when the ref no longer holds `old` (somebody else moved it).
        """
        expected = old or self.zero_sha
        command = b"update " + _encode(ref) + b"\0" + new.encode() + b"\0" + expected.encode() + b"\0"
        proc = self._exec(["update-ref", "-z", "--stdin", "-m", reason], stdin=command)
        if proc.returncode == 0:
            return True
        if self.resolve_commit(ref) != old:
            return False
        raise GitError(f"git could not update {ref}: {_decode(proc.stderr).strip()}")

    def checked_out_branches(self) -> dict[str, str]:
        """Branch ref -> worktree path, for every worktree that has a branch checked out."""
        if not (self.git_dir / "worktrees").is_dir():
            return self._main_checkout()  # no linked worktrees: HEAD says it all, no process
        out = self.run(["worktree", "list", "--porcelain", "-z"])
        found: dict[str, str] = {}
        current = ""
        for field in out.split(b"\0"):
            text = _decode(field)
            if text.startswith("worktree "):
                current = text[len("worktree ") :]
            elif text.startswith("branch "):
                found[text[len("branch ") :]] = current
        return found

    def _main_checkout(self) -> dict[str, str]:
        if self.bare or self.work_tree is None:
            return {}
        try:
            head = (self.git_dir / "HEAD").read_text(encoding="utf-8", errors="surrogateescape").strip()
        except OSError:
            head = ""
        ref = head.removeprefix("ref: ") if head.startswith("ref: refs/heads/") else None
        return {ref: str(self.work_tree)} if ref else {}

    def branch_refs(self) -> list[str]:
        """Local branches, then remote-tracking ones (full ref names).

        Listed once per run (status and parity plan several steps, each looking for a
        registry): our own ref moves never add or remove a branch, and a fetch forgets it.
        """
        if self._branch_refs is None:
            out = self.run(["for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes"])
            self._branch_refs = [r for r in _decode(out).splitlines() if not r.endswith("/HEAD")]
        return list(self._branch_refs)

    # ---- history --------------------------------------------------------------------------
    def _full_history(self) -> None:
        """History in a shallow clone stops at the graft: drift and promotions would be guessed
        wrong (a false drift, a hint to --discard-drift), so refuse instead."""
        if self.shallow:
            raise UsageError(
                f"{self.work_tree or self.git_dir} is a shallow clone: gitops needs the environment "
                "branches' history to tell promotions from drift",
                hint=SHALLOW_HINT,
            )

    def log(
        self,
        rev_range: Sequence[str],
        *,
        first_parent: bool = False,
        limit: int = 0,
        grep: str = "",
        no_walk: bool = False,
    ) -> list[CommitInfo]:
        """Commits of a range (e.g. ["^base", "tip"]), newest first; `no_walk`: just those commits,
        in the order given (several heads in one process)."""
        self._full_history()
        args = ["log", "-z", f"--format={_LOG_FORMAT}"]
        if no_walk:
            args.append("--no-walk=unsorted")
        if first_parent:
            args.append("--first-parent")
        if limit:
            args.append(f"--max-count={limit}")
        if grep:
            args.append(f"--grep={grep}")
        args += ["--end-of-options", *rev_range, "--"]
        out = self.run(args, what=WHAT_READ_HISTORY)
        return [_commit_record(record) for record in out.split(b"\0") if record]

    def commit_infos(self, shas: Iterable[str]) -> dict[str, CommitInfo]:
        """What `log` says of these commits, read from their objects in one cat-file round;
        a commit whose object git log would have to interpret is read by one `git log`."""
        wanted = list(dict.fromkeys(shas))
        found = {sha: self._commit_object(sha, got) for sha, got in self.objects.read_many(wanted).items()}
        unread = [sha for sha, info in found.items() if info is None]
        if unread:
            found.update((c.sha, c) for c in self.log(unread, no_walk=True))
        return {sha: info for sha, info in found.items() if info is not None}

    def line_between(self, tip: str, stop: str, limit: int = LINE_WALK_LIMIT) -> list[CommitInfo] | None:
        """`log ^stop tip` when the commits between are a line of single-parent commits (the
        everyday case: commits on dev since the last promotion), read parent by parent from
        the cat-file session instead of a `git log` process. None when git log must answer:
        a merge on the way, more than `limit` commits, grafts, or an object git would have to
        interpret."""
        self._full_history()
        if (self.git_dir / "info" / "grafts").exists():
            return None  # git log honours grafts; the objects do not know them
        line: list[CommitInfo] = []
        current = tip
        while current != stop:
            if len(line) == limit:
                return None
            info = self._commit_object(current, self.objects.read_many([current])[current])
            if info is None or len(info.parents) != 1:
                return None  # a root or a merge: `^stop` excludes by reachability, git decides
            line.append(info)
            current = info.parents[0]
        return line

    def _commit_object(self, sha: str, got: tuple[str, bytes] | None) -> CommitInfo | None:
        if got is None or got[0] != "commit" or not _is_object_id(sha, self.id_length):
            return None  # a name, not an id: git log says which commit it is
        from gitops_promote.adapters import commitobj  # only where commits are read this way

        fields = commitobj.parse_commit(got[1], self.id_length)
        if fields is None:
            return None
        subject = mask_subject(fields.body.split("\n", 1)[0])
        return CommitInfo(sha, subject, fields.author, fields.date, fields.body, fields.parents)

    def committer_dates(self, tip: str) -> dict[str, str]:
        """commit -> committer date (ISO 8601) along the first-parent line of `tip`.

        Compared by the caller: git's own --since reads far-future dates as "now".
        """
        out = self.run(
            ["log", "--first-parent", "--format=%H %cI", "--end-of-options", tip, "--"], what=WHAT_READ_HISTORY
        )
        return dict(line.split(" ", 1) for line in _decode(out).splitlines() if " " in line)

    def merge_base(self, a: str, b: str) -> str | None:
        self._full_history()
        out = self._run_raw(["merge-base", "--end-of-options", a, b], ok_codes=(0, 1))
        sha = _decode(out or b"").strip()
        return sha or None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        self._full_history()
        proc = self._exec(["merge-base", "--is-ancestor", "--end-of-options", ancestor, descendant])
        return proc.returncode == 0

    def path_versions(self, rev_range: Sequence[str], paths: Iterable[str]) -> dict[str, set[str | None]]:
        """Every blob id each path had in the commits of a range (None: the path was absent)."""
        paths = list(paths)
        versions: dict[str, set[str | None]] = {p: set() for p in paths}
        if not paths:
            return versions
        self._full_history()
        args = ["log", "-z", "--raw", "--no-renames", "--no-abbrev", "--format=", "-m", "--end-of-options"]
        out = self.run([*args, *rev_range, "--", *paths], what="read path history")
        fields = out.split(b"\0")
        i = 0
        while i < len(fields):
            meta = fields[i].strip()
            if meta.startswith(b":") and i + 1 < len(fields):
                _om, _nm, old, new, _st = _decode(meta[1:]).split(" ")
                path = _decode(fields[i + 1])
                if path in versions:
                    versions[path].add(None if old == self.zero_sha else old)
                    versions[path].add(None if new == self.zero_sha else new)
                i += 2
            else:
                i += 1
        return versions

    def touched_paths(self, rev_range: Sequence[str]) -> dict[str, list[str]]:
        """commit -> paths it changed (merges excluded: their sides are listed themselves).

        Paths may hold any byte but NUL, so the output is split on NUL only: each commit is
        announced by an empty field (`%x00` before its id), which no path can be.
        """
        return self.touched_paths_and_trailer(rev_range, "")[0]

    def touched_paths_and_trailer(self, rev_range: Sequence[str], key: str) -> tuple[dict[str, list[str]], set[str]]:
        """`touched_paths`, and which of those commits carry the trailer `key` (parsed as
        `CommitInfo.trailers` parses it), from the same `git log`: one process, not two
        (started ahead by `start_touched_paths`, or now)."""
        self._full_history()
        args = _touched_args(rev_range, key)
        started = self._started.pop(_touched_key(rev_range, key), None)
        out = started.output() if started is not None else self.run(args, what=WHAT_READ_HISTORY)
        bodies: dict[str, str] = {}
        touched = _parse_touched(out.split(b"\0"), bodies)
        return touched, {sha for sha, text in bodies.items() if key and key in parse_trailers(text)}

    def start_touched_paths(self, rev_range: Sequence[str], key: str) -> None:
        """Start, in the background, the `git log` that `touched_paths_and_trailer(rev_range,
        key)` will read: git walks the history while the caller compares and plans trees (a
        target with 20,000 files changed since its last promotion: 0.2 s of git's time)."""
        waiting = _touched_key(rev_range, key)
        if waiting not in self._started and not self.shallow:  # a shallow clone is refused when read
            argv = self._git_argv(_touched_args(rev_range, key))
            self._started[waiting] = _Started(argv, str(self.git_dir), git_env(), None, WHAT_READ_HISTORY)

    # ---- working tree (gitops init, gitops validate --worktree) -----------------------------
    def _in_work_tree(self, args: Sequence[str], what: str) -> bytes:
        if self.work_tree is None:
            raise UsageError(f"{self.git_dir} has no working tree", hint="run this in a clone, not a bare repository")
        out = self._run_raw(args, cwd=self.work_tree, what=what)
        assert out is not None
        return out

    def worktree_files(self) -> list[str]:
        """Tracked and untracked, not ignored, files of the working tree (paths from its top)."""
        out = self._in_work_tree(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name"],  # run at the top
            "list the working tree",
        )
        return sorted({_decode(p) for p in out.split(b"\0") if p})

    def current_branch(self) -> str | None:
        """The branch HEAD names (checked out or unborn), or None when HEAD is detached."""
        out = self._run_raw(["symbolic-ref", "--quiet", "HEAD"], ok_codes=(0, 1))
        ref = _decode(out or b"").strip()
        return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None

    def checkout(self, branch: str) -> None:
        """Check `branch` out into the working tree (a new repository's first checkout).

        HEAD is pointed at the full ref name and the index and files are filled from it, so
        the branch name is never where git could read it as an option or a path.
        """
        self._in_work_tree(["symbolic-ref", "HEAD", f"refs/heads/{branch}"], "check out " + branch)
        self._in_work_tree(["read-tree", "--reset", "-u", "HEAD"], "check out " + branch)

    # ---- remotes --------------------------------------------------------------------------
    def config(self) -> dict[str, list[str | None]]:
        """Every setting git reads here (system, global, repository, includes), from one
        `git config -z --list` per run: remotes, signing and identity are asked of it.
        Keys as git prints them (section and name lower-case); None: a key without `=`."""
        if self._config is None:
            out = self._run_raw(["config", "-z", "--list"], ok_codes=(0, 1), what="read the configuration") or b""
            found: dict[str, list[str | None]] = {}
            for record in out.split(b"\0"):
                if record:
                    key, newline, value = _decode(record).partition("\n")
                    found.setdefault(key, []).append(value if newline else None)
            self._config = found
        return self._config

    def remotes(self) -> list[str]:
        names = (key[len("remote.") :].rpartition(".")[0] for key in self.config() if key.startswith("remote."))
        return list(dict.fromkeys(name for name in names if name))

    def identity_configured(self) -> bool:
        """Does git have a name and an e-mail to record without guessing one (`git var` not needed)?"""
        config = self.config()
        return all(
            os.environ.get(f"GIT_COMMITTER_{what.upper()}") or (config.get(f"user.{what}") or [None])[-1]
            for what in ("name", "email")
        )

    def remote_url(self, remote: str) -> str:
        """The URL configured for `remote`, as written (before any url.*.insteadOf rewriting)."""
        return (self.config().get(f"remote.{remote}.url") or [None])[-1] or ""

    def remote_heads(self, remote: str, branches: Sequence[str]) -> dict[str, str]:
        """branch -> sha on the remote, for the branches that exist there."""
        refs = [f"refs/heads/{b}" for b in branches]
        out = self.run(["ls-remote", "--heads", "--end-of-options", remote, *refs], what="reach the remote")
        found = {}
        for line in _decode(out).splitlines():
            sha, _, ref = line.partition("\t")
            found[ref.removeprefix("refs/heads/")] = sha
        return found

    def fetch(self, remote: str, branches: Sequence[str]) -> None:
        self._branch_refs = None  # remote-tracking refs may appear
        refspecs = [f"+refs/heads/{b}:refs/remotes/{remote}/{b}" for b in branches]
        self.run(
            ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", remote, *refspecs],
            what="fetch from the remote",
        )

    def log_with_changes(self, tip: str, limit: int = 0) -> list[CommitChanges]:
        """The first-parent line of `tip`, newest first, each commit with its changed files
        against its first parent (a first commit adds every path): one `git log`, and one
        `ls-tree` when the line reaches its first commit."""
        self._full_history()
        # log.showRoot off: the first commit's files come from ls-tree, a third cheaper than
        # log's comparison with the empty tree (140,000 files: 0.14 s against 0.21 s)
        args = ["-c", "log.showRoot=false", "log", "-z", f"--format={_LOG_FORMAT}", "--first-parent", "-m"]
        args += ["--name-status", "--no-renames", *([f"--max-count={limit}"] if limit else []), "--end-of-options"]
        found = _commits_with_changes(self.run([*args, tip, "--"], what=WHAT_READ_HISTORY))
        if found and not found[-1].commit.parents:
            paths = self.file_names(found[-1].commit.sha)
            found[-1] = found[-1]._replace(paths=paths, statuses=["A"] * len(paths))
        return found

    def file_names(self, commit: str) -> list[str]:
        """Every file's path in `commit`, in git's order (names only: no ids to parse)."""
        out = self.run(
            ["ls-tree", "-r", "-z", "--name-only", "--full-tree", "--end-of-options", commit], what="list files"
        )
        return _decode(out).split("\0")[:-1]

    def glob_files(self, commit: str, patterns: Sequence[str]) -> list[str]:
        """Files of `commit` that glob patterns match (`**/x/Chart.yaml`; user text escaped by
        glob_escape, and no pattern may start with `:`).

        git walks the tree in C and only the matches come back (one diff-tree against the
        empty tree): finding `**/api/Chart.yaml` among 140,000 files lists none of them.
        """
        if any(p.startswith(":") for p in patterns):
            raise ValueError("a glob pattern starting with ':' would be read as pathspec magic")
        empty = treewriter.tree_id(b"", self.id_length // 2).hex()
        args = ["diff-tree", "-r", "-z", "--name-only", "--no-renames", "--end-of-options", empty, commit, "--"]
        # every pathspec of this call is a glob (no `:(magic)` prefix is read from the
        # patterns: they start with the caller's text only after its own `**/`)
        globs = {"GIT_LITERAL_PATHSPECS": "0", "GIT_GLOB_PATHSPECS": "1"}
        out = self.run([*args, *patterns], env=globs, what="find files")
        return sorted(set(_decode(out).split("\0")) - {""})

    def changed_paths(self, old: str, new: str) -> set[str]:
        """Paths of files whose entry differs between two commits (one diff-tree, no listing;
        names only: thousands of differing files are one split, not thousands of records)."""
        if (old, new) in self._changes:
            return set(self._changes[(old, new)])
        out = self.run(
            ["diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--name-only", "--end-of-options", old, new],
            what="compare two trees",
        )
        return set(_decode(out).split("\0")) - {""}

    def ahead_behind(self, local: str, upstream: str) -> tuple[int, int]:
        """(commits only in `local`, commits only in `upstream`)."""
        out = self.run(
            ["rev-list", "--left-right", "--count", "--end-of-options", f"{local}...{upstream}", "--"],
            what="compare a local branch with its remote branch",
        )
        ahead, behind = _decode(out).split()
        return int(ahead), int(behind)

    def record_fetch(self) -> None:
        """Remember when gitops last fetched, so that --no-fetch can say how old its refs are."""
        try:
            (self.git_dir / FETCH_STAMP).write_text("")
        except OSError:
            pass  # a read-only repository: --no-fetch will say the age is unknown

    def last_fetch_time(self) -> float | None:
        """When gitops last fetched in this repository (seconds since the epoch), if known."""
        try:
            return (self.git_dir / FETCH_STAMP).stat().st_mtime
        except OSError:
            return None

    def push(self, remote: str, commit: str, branch: str, expected_old: str | None) -> PushResult:
        """Push `commit` to `branch` only if the remote still holds `expected_old` (a lease)."""
        ref = f"refs/heads/{branch}"
        lease = f"--force-with-lease={ref}:{expected_old or ''}"
        proc = self._exec(["push", "--porcelain", "--no-verify", lease, "--end-of-options", remote, f"{commit}:{ref}"])
        out, err = _decode(proc.stdout), _decode(proc.stderr).strip()
        if proc.returncode == 0:
            return PushResult(True, False, err)
        return PushResult(False, _lost_race(out), err or out.strip())

    def push_new_branches(self, remote: str, commit: str, branches: Sequence[str]) -> PushResult:
        """Create `branches` at `commit` on the remote in one atomic push: all of them or none,
        each with a lease that it must not exist yet."""
        refs = [f"refs/heads/{b}" for b in branches]
        leases = [f"--force-with-lease={ref}:" for ref in refs]
        argv = ["push", "--porcelain", "--no-verify", "--atomic", *leases, "--end-of-options", remote]
        proc = self._exec([*argv, *(f"{commit}:{ref}" for ref in refs)])
        out, err = _decode(proc.stdout), _decode(proc.stderr).strip()
        return PushResult(proc.returncode == 0, _lost_race(out), err or out.strip())

    def delete_remote_branch(self, remote: str, branch: str, expected: str) -> PushResult:
        """Delete `branch` on the remote only if it still holds `expected` (a lease), and its
        remote-tracking ref here."""
        ref = f"refs/heads/{branch}"
        lease = f"--force-with-lease={ref}:{expected}"
        proc = self._exec(["push", "--porcelain", "--no-verify", lease, "--end-of-options", remote, f":{ref}"])
        out, err = _decode(proc.stdout), _decode(proc.stderr).strip()
        if proc.returncode == 0:
            self._exec(["update-ref", "-d", f"refs/remotes/{remote}/{branch}"])
            return PushResult(True, False, err)
        return PushResult(False, _lost_race(out), err or out.strip())

    def remote_head(self, remote: str) -> str | None:
        """The branch the remote's HEAD names (what `git clone` checks out), or None."""
        out = self.run(["ls-remote", "--symref", "--end-of-options", remote, "HEAD"], what="reach the remote")
        for line in _decode(out).splitlines():
            if line.startswith("ref: ") and line.endswith("\tHEAD"):
                return line[5:].split("\t", 1)[0].removeprefix("refs/heads/")
        return None


# How a push that lost a race to another one is reported: by our lease (stale info), by the
# client (fetch first, non-fast-forward), or by the server when two pushes update the branch at
# the same moment ("cannot lock ref 'refs/heads/stg': is at X but expected Y").
_LOST_RACE = ("stale info", "fetch first", "non-fast-forward", "cannot lock ref", "failed to update ref")


class _Started:
    """A git process started in the background: its input and output are anonymous files, so
    it never waits on us, and nothing is left behind if the run stops before reading it."""

    def __init__(self, argv: list[str], cwd: str, env: Mapping[str, str], stdin: bytes | None, what: str) -> None:
        self._what = what
        self._files = [tempfile.TemporaryFile() for _ in range(3)]
        given, self._out, self._err = self._files
        given.write(stdin or b"")
        given.seek(0)
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(  # noqa: S603 - argument list, no shell
                argv, stdin=given, stdout=self._out, stderr=self._err, cwd=cwd, env=dict(env)
            )
        except FileNotFoundError as exc:
            self.close()
            raise GitError("git is not installed or not on PATH", hint="install git") from exc

    def output(self) -> bytes:
        """Its standard output, once it has finished; GitError as `Repository.run` says it."""
        assert self._proc is not None
        code = self._proc.wait()
        self._proc = None
        try:
            stream = self._out if code == 0 else self._err
            stream.seek(0)
            data = stream.read()
        finally:
            self.close()
        if code != 0:
            raise GitError(f"git could not {self._what}: {_decode(data).strip() or f'exit status {code}'}")
        return data

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        for handle in self._files:
            handle.close()
        self._files = []


def _literal_after_colon(path: str) -> bool:
    return "\n" not in path and not path.startswith(("./", "../"))


def _touched_key(rev_range: Sequence[str], key: str) -> tuple[str, ...]:
    """Where a `touched_paths_and_trailer` log begun ahead waits (`Repository._started`)."""
    return ("log", key, *rev_range)


def _touched_args(rev_range: Sequence[str], key: str) -> list[str]:
    """`git log` of the paths each commit changed, and (with `key`) each commit's message."""
    body = "%x01%B" if key else ""
    log = ["log", "-z", "--name-only", "--no-renames", "--no-merges", f"--format=%x00%H{body}"]
    return [*log, "--end-of-options", *rev_range, "--"]


def _decode_paths(out: bytes) -> str:
    """git's output decoded once: its separators and metadata are ASCII, so each path decodes
    as it would alone (bytes that are not UTF-8 kept as surrogates)."""
    return out.decode("utf-8", "surrogateescape")


def _records(found: list[tuple[str, ...]]) -> list[DiffRecord]:
    """DiffRecords of `_DIFF_OUTPUT` matches (records only: no "<tree> <tree>" line)."""
    entry, record, absent = TreeEntry, DiffRecord, "000000"
    return [
        record(path, None if a == absent else entry(a, x), None if b == absent else entry(b, y))
        for _, _, a, b, x, y, path in found
    ]


def _tree_id(entry: tuple[bytes, bytes] | None) -> str | None:
    return entry[1].hex() if entry is not None and entry[0] == treewriter.TREE_MODE else None


def _lost_race(porcelain: str) -> bool:
    return any(marker in porcelain for marker in _LOST_RACE)


def init_repository(path: Path, initial_branch: str) -> Repository:
    """`git init` a new non-bare repository at `path` (an existing empty directory)."""
    argv = ["git", "-c", "core.hooksPath=/dev/null", "init", "--quiet", f"--initial-branch={initial_branch}"]
    argv += ["--", str(path)]
    proc = subprocess.run(argv, capture_output=True, env=git_env(), check=False)  # noqa: S603 - argument list
    if proc.returncode != 0:
        raise GitError(f"git could not create a repository in {path}: {_decode(proc.stderr).strip()}")
    return Repository(path)


def set_symbolic_head(git_dir: Path, branch: str) -> bool:
    """Point the HEAD of the repository at `git_dir` (e.g. a bare remote) at `branch`."""
    argv = ["git", "-c", "core.hooksPath=/dev/null", f"--git-dir={git_dir}", "symbolic-ref", "HEAD"]
    proc = subprocess.run([*argv, f"refs/heads/{branch}"], capture_output=True, env=git_env(), check=False)  # noqa: S603
    return proc.returncode == 0


def _parse_touched(fields: list[bytes], bodies: dict[str, str] | None = None) -> dict[str, list[str]]:
    """`["", sha, "\\npath", "path", "", sha, ...]` -> {sha: [path, ...]}; a field
    `sha\\x01message` (the format asked for messages) fills `bodies`."""
    touched: dict[str, list[str]] = {}
    current: list[str] | None = None
    i = 0
    while i < len(fields):
        if fields[i] == b"" and i + 1 < len(fields) and fields[i + 1]:
            sha, _, message = fields[i + 1].partition(b"\x01")  # an id holds no \x01
            current = touched.setdefault(sha.decode(), [])
            if bodies is not None:
                bodies[sha.decode()] = _decode(message)
            i += 2
            if i < len(fields) and fields[i].startswith(b"\n"):
                fields[i] = fields[i][1:]  # git puts one newline between the id and the names
            continue
        if fields[i] and current is not None:
            current.append(_decode(fields[i]))
        i += 1
    return touched


def _index_records(entries: Tree, base: Tree, zero_sha: str = ZERO_SHA) -> bytes:
    """`update-index --index-info` lines turning `base` into `entries` (mode 0 removes a path)."""
    changed = [f"{e.mode} {e.kind} {e.sha}\t{path}" for path, e in entries.items() if base.get(path) != e]
    removed = [f"0 blob {zero_sha}\t{path}" for path in base if path not in entries]
    return b"".join(_encode(line) + b"\0" for line in (*removed, *changed))


class PushResult(NamedTuple):
    ok: bool
    lost_race: bool
    message: str
