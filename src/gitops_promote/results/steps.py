"""Where a step starts: the target's last promotion of the source (one definition, commands/_engine.last_promotion)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitops_promote.adapters.git import CommitInfo

# How the base of a step was found (LastPromotion.kind)
PROMOTION, HAND_MERGE, COMMON_ANCESTOR = "promotion", "hand-merge", "common-ancestor"


@dataclass(frozen=True)
class LastPromotion:
    """Where the target last took the source's content, by the one definition every command uses.

    `commit` is the target commit that recorded it (drift is looked for after it) and
    `source_commit` what it brought: a promotion commit (Promoted-* trailers), a hand merge of
    a source commit, or the newest commit both branches share (a manual fast-forward, or no
    promotion yet). A rollback made after it is named, with the source commit whose content
    it restored: the commits since then are pending again.
    """

    commit: str
    source_commit: str
    kind: str = PROMOTION
    rollback: str | None = None
    restored_source: str | None = None
    record: CommitInfo | None = field(default=None, compare=False)  # the commit itself, when read

    @property
    def pending_since(self) -> str:
        return self.restored_source or self.source_commit

    def to_json(self) -> dict[str, str | None]:
        return {
            "commit": self.commit,
            "source_commit": self.source_commit,
            "kind": self.kind,
            "rollback": self.rollback,
            "restored_source_commit": self.restored_source,
        }
