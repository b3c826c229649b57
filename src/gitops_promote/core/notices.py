"""What a step into an environment should tell its reader before it happens.

One list of warnings is computed with the plan of a step (commands/_engine.prepare) and shown
by every command that reads the step: `plan`, `promote`, `status` and `parity` say the same.
"""

from __future__ import annotations

from typing import NamedTuple

# kinds (docs/json.md lists them)
SEEDED = "seeded"
ORPHANED = "orphaned"
MISSING_KEYS = "missing-keys"
DRIFT = "drift"
UNPUSHED = "unpushed"  # a local branch has commits its remote branch lacks
BEHIND = "behind"  # a local branch lacks commits of its remote branch
STALE_REFS = "stale-refs"  # --no-fetch: the remote-tracking refs may be old
ROLLED_BACK = "rolled-back"  # the next promotion re-applies content a rollback removed
REGISTRY_PROPOSAL = "registry-proposal"  # the source proposes another entry for the target
REGISTRY_OVERRIDE = "registry-override"  # --registry FILE replaces the branches' registries
BOOTSTRAP = "bootstrap"  # the target has no registry yet: the source's governs this once
INVALID_RESULT = "invalid-result"  # the promoted tree would fail validation
APP_REMOVED = "app-removed"  # an app removed upstream takes its manifests with it


class Warning(NamedTuple):
    kind: str
    path: str  # the file concerned, or "" when the warning is about a branch
    message: str
    branch: str = ""  # the branch concerned, when the warning is about one

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "message": self.message, "branch": self.branch}
