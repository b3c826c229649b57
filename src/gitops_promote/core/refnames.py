"""Branch-name rules of `git check-ref-format --branch`, checked without running git."""

from __future__ import annotations

_FORBIDDEN_CHARS = set(" ~^:?*[\\")


def branch_name_problem(name: str) -> str | None:
    """Why `name` is not a valid branch name, or None when it is."""
    if not name:
        return "is empty"
    if name.startswith("-"):
        return "starts with '-' (it would be read as an option)"
    if name == "@" or "@{" in name:
        return "contains '@{' or is '@'"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "contains a control character"
    bad = sorted(_FORBIDDEN_CHARS.intersection(name))
    if bad:
        return "contains " + ", ".join(repr(c) for c in bad)
    if ".." in name:
        return "contains '..'"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "has an empty path component ('/' at either end or '//')"
    if name.endswith("."):
        return "ends with '.'"
    for component in name.split("/"):
        if component.startswith("."):
            return f"has a component starting with '.' ({component!r})"
        if component.endswith(".lock"):
            return f"has a component ending with '.lock' ({component!r})"
    if name == "HEAD":
        return "is HEAD"
    return None
