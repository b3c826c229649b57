"""Signature policies (`signatures:` in an environment's registry entry) and their verdicts.

Pure parts only: the policy model and its validation, which commits a policy covers, and the
judgement of the statuses git reported (`%G?`). Reading the statuses is the git adapter's job;
docs/signing.md describes the policy and the trust rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from gitops_promote.errors import Location, Problem

STRICT, HEAD = "strict", "head"
MODES = (STRICT, HEAD)
POLICY_KEYS = ("require", "allowed_signers", "mode")

# Finding kinds, one per %G? verdict that is not "good"
UNSIGNED = "unsigned"
BAD = "bad-signature"
NOT_ALLOWED = "signer-not-allowed"
UNKNOWN_KEY = "unknown-key"
EXPIRED = "expired"
REVOKED = "revoked"

# %G? -> (kind, why); "G" (good and valid) is the only verdict a policy accepts.
_VERDICTS = {
    "N": (UNSIGNED, "not signed"),
    "B": (BAD, "bad signature: the commit does not match its signature"),
    "U": (NOT_ALLOWED, "signed by a key that is not allowed (not in the allowed signers, or not trusted)"),
    "E": (UNKNOWN_KEY, "the signature cannot be checked: its key is unknown here"),
    "X": (EXPIRED, "the signature has expired"),
    "Y": (EXPIRED, "signed by an expired key"),
    "R": (REVOKED, "signed by a revoked key"),
}


class SignaturePolicy(NamedTuple):
    require: bool = True
    allowed_signers: str | None = None  # path of an ssh allowed-signers file in the target's tree
    mode: str = STRICT  # strict: every new commit; head: the promoted commit only

    def to_json(self) -> dict[str, Any]:
        return {"require": self.require, "allowed_signers": self.allowed_signers, "mode": self.mode}


@dataclass(frozen=True)
class SignatureStatus:
    """What git says about one commit's signature."""

    commit: str
    author: str
    code: str  # %G?
    key: str = ""  # %GK: key id or ssh fingerprint
    signer: str = ""  # %GS: the principal (ssh) or the key's user id (openpgp)


class SignatureFinding(NamedTuple):
    commit: str
    author: str
    kind: str
    message: str
    key: str = ""

    def to_json(self) -> dict[str, str]:
        fields = ("commit", "author", "kind", "message", "key")
        return {name: getattr(self, name) for name in fields}

    def describe(self) -> str:
        """One line for people; the author comes from the commit, so control characters are escaped."""
        key = f" (key {self.key})" if self.key else ""
        return _printable(f"{self.commit[:12]} by {self.author}: {self.message}{key}")


def _printable(text: str) -> str:
    return "".join(repr(c)[1:-1] if c < " " or "\x7f" <= c <= "\x9f" else c for c in text)


def commits_covered(policy: SignaturePolicy, new_commits: Sequence[str], promoted: str) -> list[str]:
    """The commits a promotion of `promoted` must have signed under `policy`."""
    if not policy.require:
        return []
    if policy.mode == HEAD:
        return [promoted]
    return list(dict.fromkeys([promoted, *new_commits]))


def judge(statuses: Sequence[SignatureStatus]) -> list[SignatureFinding]:
    """One finding per commit whose signature is not good and valid."""
    findings = []
    for status in statuses:
        if status.code == "G":
            continue
        kind, why = _VERDICTS.get(status.code, (UNKNOWN_KEY, f"unexpected verdict {status.code!r} from git"))
        findings.append(SignatureFinding(status.commit, status.author, kind, why, status.key))
    return findings


# ---- validation (called by the registry's validator, with its positions) ---------------------


def parse_policy(value: Any, at: Callable[[str | None], Location]) -> tuple[SignaturePolicy | None, list[Problem]]:
    """The `signatures:` mapping of an environment; `at(key)` locates a key (None: the mapping)."""
    if not isinstance(value, dict):
        return None, [Problem("'signatures' must be a mapping (require, allowed_signers, mode)", at(None))]
    problems = [
        Problem(f"unknown key {key!r} in 'signatures'", at(str(key)), f"allowed keys: {', '.join(POLICY_KEYS)}")
        for key in value
        if key not in POLICY_KEYS
    ]
    require = value.get("require", True)
    if not isinstance(require, bool):
        problems.append(Problem("'signatures.require' must be true or false", at("require")))
        require = True
    mode = value.get("mode", STRICT)
    if mode not in MODES:
        problems.append(Problem(f"invalid signatures.mode {mode!r}", at("mode"), "use 'strict' or 'head'"))
        mode = STRICT
    signers = value.get("allowed_signers")
    if signers is not None and (problem := _signers_path_problem(signers)):
        problems.append(
            Problem(
                f"signatures.allowed_signers {signers!r} {problem}",
                at("allowed_signers"),
                "give a path inside the repository, e.g. .gitops/allowed_signers",
            )
        )
        signers = None
    return SignaturePolicy(require, signers, str(mode)), problems


def _signers_path_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return "is not a path"
    if path.startswith(("/", "-")) or "\\" in path:
        return "must be a relative path inside the repository"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must be a plain relative path (no '.', '..' or empty parts)"
    if any(ord(c) < 0x20 for c in path):
        return "contains control characters"
    return None
