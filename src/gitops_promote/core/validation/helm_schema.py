"""Rule `helm-values-schema`: an app's effective values against its chart's values.schema.json."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from gitops_promote.core.validation.apps import ValueLayer, locate
from gitops_promote.core.validation.findings import ERROR, Finding, make_finding, schema_error_path


def _schema_validator(schema: dict[str, Any]) -> Any:
    """The draft the schema declares; Draft 7 when it names none we know (nginx: `schema#`)."""
    import jsonschema  # only when a chart has a values schema

    known = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    declared = schema.get("$schema", "")
    cls = known if declared.rstrip("#") in _known_meta_schemas() else jsonschema.Draft7Validator
    return cls(schema)


@lru_cache(maxsize=1)
def _known_meta_schemas() -> frozenset[str]:
    import jsonschema

    names = set()
    for cls in (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    ):
        names.add(str(cls.META_SCHEMA["$schema"]).rstrip("#"))
    return frozenset(names)


def check_values_schema(
    schema_path: str, schema: dict[str, Any], values: Any, layers: Sequence[ValueLayer]
) -> list[Finding]:
    import jsonschema
    from referencing.exceptions import Unresolvable

    findings = []
    try:
        validator = _schema_validator(schema)
        validator.check_schema(schema)
        errors = sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))
    except (jsonschema.SchemaError, jsonschema.exceptions.UnknownType, Unresolvable) as exc:
        # The schema's own fault: say where in the schema, never quote the values.
        at = "/".join(map(str, getattr(exc, "path", ()) or ())) or "(root)"
        return [
            make_finding(
                "helm-values-schema",
                ERROR,
                schema_path,
                (0, 0),
                f"values.schema.json is not a valid schema (at {at}: {type(exc).__name__}); fix the schema",
            )
        ]
    for error in errors:
        field_path, message = schema_error_path(error)
        where = locate(field_path, layers)
        findings.append(
            Finding(
                "helm-values-schema",
                ERROR,
                where[0],
                where[1],
                where[2],
                f"{message} (schema: {schema_path})",
                "Helm refuses to render values that break the chart's values.schema.json; fix the value or the schema",
            )
        )
    return findings
