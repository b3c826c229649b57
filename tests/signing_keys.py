"""Real signing keys for the tests: ssh-keygen keys and a gpg keyring in temporary homes.

Nothing is mocked: keys are made by ssh-keygen and gpg, commits are signed by git itself
(`commit-tree -S`) and checked with `git verify-commit`. gpg runs in a GNUPGHOME of its own,
under /tmp with a short name (the agent's socket path must stay under ~100 characters); its
agent is stopped when the test ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import git

from gitops_promote.adapters.git import Repository
from gitops_promote.adapters.scaffold import FileSpec, tree_from_files

HAVE_GPG = shutil.which("gpg") is not None and shutil.which("gpgconf") is not None
HAVE_SSH_KEYGEN = shutil.which("ssh-keygen") is not None
HAVE_GPGSM = HAVE_GPG and shutil.which("gpgsm") is not None


@dataclass(frozen=True)
class SshKey:
    private: Path
    public: str  # "ssh-ed25519 AAAA… comment"
    principal: str

    @property
    def allowed_signers_line(self) -> str:
        return f"{self.principal} {self.public}\n"

    @property
    def config(self) -> dict[str, str]:
        """The git settings that make `git commit` sign with this key."""
        return {"gpg.format": "ssh", "user.signingkey": str(self.private)}


def make_ssh_key(directory: Path, principal: str) -> SshKey:
    if not HAVE_SSH_KEYGEN:
        pytest.skip("ssh-keygen is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / principal.replace("@", "_at_")
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(private)],
        check=True,
        capture_output=True,
    )
    public = Path(f"{private}.pub").read_text().strip()
    return SshKey(private, public, principal)


@dataclass(frozen=True)
class GpgKey:
    home: Path
    email: str
    fingerprint: str
    format: str = "openpgp"  # or x509 (gpgsm)

    @property
    def config(self) -> dict[str, str]:
        key = self.fingerprint if self.format == "openpgp" else "0x" + self.fingerprint[-8:]
        return {"gpg.format": self.format, "user.signingkey": key}


@contextmanager
def gpg_home(email: str = "carol@example.com") -> Iterator[GpgKey]:
    """A fresh keyring with one ultimately trusted signing key (no passphrase)."""
    home = Path(tempfile.mkdtemp(prefix="gpg", dir="/tmp"))
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        subprocess.run(
            ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"Carol <{email}>", "ed25519", "sign", "never"],
            check=True,
            capture_output=True,
            env=env,
        )
        listing = subprocess.run(
            ["gpg", "--batch", "--with-colons", "--list-secret-keys"], check=True, capture_output=True, env=env
        ).stdout.decode()
        fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        yield GpgKey(home, email, fingerprint)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)


X509_PARAMETERS = """\
Key-Type: RSA
Key-Length: 2048
Key-Usage: sign, cert
Serial: random
Name-DN: CN=Release Bot,O=Example
Name-Email: x509bot@example.com
"""


@contextmanager
def x509_home() -> Iterator[GpgKey]:
    """A gpgsm keybox holding one self-signed signing certificate, trusted as a root."""
    home = Path(tempfile.mkdtemp(prefix="gsm", dir="/tmp"))
    home.chmod(0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
    (home / "gpgsm.conf").write_text("disable-crl-checks\ndisable-policy-checks\n")
    (home / "params").write_text(X509_PARAMETERS)
    try:
        batch = ["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        cert = subprocess.run([*batch, "--gen-key", str(home / "params")], check=True, capture_output=True, env=env)
        (home / "cert.der").write_bytes(cert.stdout)
        subprocess.run(
            ["gpgsm", "--batch", "--import", str(home / "cert.der")], check=True, capture_output=True, env=env
        )
        listing = subprocess.run(
            ["gpgsm", "--batch", "--with-colons", "--list-secret-keys"], check=True, capture_output=True, env=env
        ).stdout.decode()
        fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        (home / "trustlist.txt").write_text(f"{fingerprint} S relax\n")
        yield GpgKey(home, "x509bot@example.com", fingerprint, "x509")
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, env=env, check=False)
        shutil.rmtree(home, ignore_errors=True)


def configure(repo: Path, settings: Mapping[str, str]) -> None:
    for key, value in settings.items():
        git(repo, "config", key, value)


def commit_signed(
    repo: Path,
    branch: str,
    changes: Mapping[str, FileSpec],
    message: str,
    settings: Mapping[str, str] | None,
) -> str:
    """A commit on `branch` signed by git with `settings` (None: unsigned)."""
    with Repository(repo) as handle:
        parent = handle.resolve_commit(f"refs/heads/{branch}")
        assert parent is not None, branch
        entries = dict(handle.ls_tree(parent))
        entries.update(tree_from_files(handle, changes))
        tree = handle.write_tree(entries)
    options = [arg for key, value in (settings or {}).items() for arg in ("-c", f"{key}={value}")]
    sign = "-S" if settings else "--no-gpg-sign"
    sha = git(repo, *options, "commit-tree", sign, "-p", parent, "-m", message, tree)
    git(repo, "update-ref", f"refs/heads/{branch}", sha, parent)
    return sha


def tamper(repo: Path, branch: str, commit: str) -> str:
    """The same signed commit with its message changed: its signature no longer matches."""
    raw = git(repo, "cat-file", "commit", commit) + "\n"
    forged = raw.replace("\n\n", "\n\nTampered: ", 1).encode()
    sha = git(repo, "hash-object", "-t", "commit", "-w", "--stdin", input=forged)
    git(repo, "update-ref", f"refs/heads/{branch}", sha, commit)
    return sha


def verify_commit(repo: Path, commit: str, allowed_signers: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """`git verify-commit` (ssh signatures against `allowed_signers`)."""
    options = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
    return subprocess.run(["git", *options, "verify-commit", commit], cwd=repo, capture_output=True, check=False)
