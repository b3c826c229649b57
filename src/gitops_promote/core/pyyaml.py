"""PyYAML, for every module that uses it: `from gitops_promote.core.pyyaml import yaml`.

Imported here with the patterns its modules compile at import deferred to their first use
(core/regex.deferred_patterns): the Unicode class of its pure-Python reader (4.6 ms) and its
timestamp pattern (1.2 ms) are never used by the C parser that reads most files, yet every
run that parses a registry paid for them.
"""

from gitops_promote.core.regex import deferred_patterns

with deferred_patterns():
    import yaml as yaml  # noqa: PLC0414 - re-exported
    import yaml.cyaml as _cyaml  # noqa: F401 - the C loaders, with their patterns deferred too
