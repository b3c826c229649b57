"""core/regex.py: patterns compiled at their first use, and PyYAML imported that way."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from gitops_promote.core.regex import deferred_patterns, lazy_regex


def test_a_lazy_regex_is_compiled_once() -> None:
    pattern = lazy_regex(r"a+")
    assert pattern() is pattern()
    assert pattern().fullmatch("aaa")


def test_a_deferred_pattern_compiles_at_first_use_and_matches_as_the_real_one() -> None:
    with deferred_patterns():
        deferred = re.compile(r"(?P<key>[a-z]+)=(?P<value>\d+)", re.I)
    assert not isinstance(deferred, re.Pattern)
    assert "match" not in vars(deferred)  # nothing compiled yet
    real = re.compile(r"(?P<key>[a-z]+)=(?P<value>\d+)", re.I)
    text = "A=1, bb=22"
    assert deferred.search(text).groupdict() == real.search(text).groupdict()
    assert deferred.findall(text) == real.findall(text)
    assert deferred.sub("x", text) == real.sub("x", text)
    assert (deferred.pattern, deferred.flags, deferred.groupindex) == (real.pattern, real.flags, real.groupindex)
    assert vars(deferred)["match"].__self__ is vars(deferred)["search"].__self__  # compiled once


def test_re_compile_is_restored_after_the_block_even_on_an_error() -> None:
    real = re.compile
    with pytest.raises(RuntimeError), deferred_patterns():
        raise RuntimeError
    assert re.compile is real
    assert isinstance(re.compile("x"), re.Pattern)


def test_a_deferred_pattern_reports_a_bad_pattern_at_its_use() -> None:
    with deferred_patterns():
        broken = re.compile("(")
    with pytest.raises(re.error):
        broken.match("x")


PYYAML_IN_A_FRESH_PROCESS = r"""
import re
from gitops_promote.core.pyyaml import yaml
print(isinstance(yaml.reader.Reader.NON_PRINTABLE, re.Pattern), "match" in vars(yaml.reader.Reader.NON_PRINTABLE))
try:  # the pure-Python reader uses the deferred pattern: a control character is still refused
    yaml.load("a: \x07\n", Loader=yaml.SafeLoader)
except yaml.reader.ReaderError as exc:
    print("refused", exc.character == 7)
print(yaml.load("when: 2001-12-14t21:59:43.10-05:00\n", Loader=yaml.SafeLoader)["when"].year)
print(isinstance(re.compile("x"), re.Pattern))
"""


def test_pyyaml_is_imported_with_its_patterns_deferred_and_works_as_before() -> None:
    done = subprocess.run(  # noqa: S603 - argument list
        [sys.executable, "-c", PYYAML_IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n") == ["False False", "refused True", "2001", "True", ""]
