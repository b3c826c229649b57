"""What `git log --format=%H %P %an <%ae> %aI %B` says of a commit, read from its object.

A promotion lists the source commits it carries: in the everyday case a short line of
single-parent commits since the last promotion. Reading them through the run's cat-file
session, parent by parent, spares a `git log` process. Only commits whose object says
exactly what `git log` would print are read this way: anything unusual (an `encoding`
header, an ident or a date git would have to interpret) is left to `git log`, so both
ways give the same answer (tests/test_commit_objects.py compares them).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

# "Name <email> 1700000000 +0530", nothing git would have to trim, split or guess (git trims
# white space at the end of a name: a name that starts or ends with any is left to it)
_IDENT = re.compile(rb"([^<>\s](?:[^<>\n]*[^<>\s])?) <([^<>\n]*)> (\d{1,12}) ([+-])(\d\d)(\d\d)")
_HEADER = re.compile(rb"([a-z-]+) ([^\n]*)")
_LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc).timestamp()


class CommitFields(NamedTuple):
    parents: tuple[str, ...]
    author: str  # "Name <email>", as %an <%ae>
    date: str  # the author date as %aI prints it
    body: str  # the raw message, as %B


def parse_commit(raw: bytes, id_length: int) -> CommitFields | None:
    """The fields of a commit object, or None where `git log` must answer."""
    header, blank, message = raw.partition(b"\n\n")
    if not blank or b"\0" in raw:
        return None  # no message separator: git log's own reading decides
    parents: list[str] = []
    author: tuple[str, str] | None = None
    for line in header.split(b"\n"):
        if line.startswith(b" "):
            continue  # a continuation line of a multi-line header (gpgsig, mergetag)
        found = _HEADER.fullmatch(line)
        if found is None:
            return None
        name, value = found.groups()
        if name == b"parent":
            if len(value) != id_length:
                return None
            parents.append(value.decode("ascii"))
        elif name == b"author":
            if author is not None:
                return None
            author = _ident(value)
            if author is None:
                return None
        elif name == b"encoding":
            return None  # git log re-encodes the message: let it
    if author is None:
        return None
    try:
        body = message.decode("utf-8")
    except UnicodeDecodeError:
        return None  # git log would print the bytes as they are; its decoding decides
    return CommitFields(tuple(parents), author[0], author[1], body)


def _ident(value: bytes) -> tuple[str, str] | None:
    found = _IDENT.fullmatch(value)
    if found is None:
        return None
    name, email, stamp, sign, hours, minutes = found.groups()
    seconds = int(stamp)
    if seconds > _LATEST or int(hours) >= 24 or int(minutes) >= 60:
        return None
    offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == b"-" else 1)
    if seconds + offset.total_seconds() < 0:
        return None  # a local time before 1970: git log refuses it, as it would without us
    when = datetime.fromtimestamp(seconds, timezone(offset))
    try:
        who = f"{name.decode('utf-8')} <{email.decode('utf-8')}>"
    except UnicodeDecodeError:
        return None
    return who, when.isoformat()
