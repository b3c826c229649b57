#!/usr/bin/env python3
"""Extract the served openAPIV3Schema of Argo CD's CRDs into compact JSON files.

The upstream CRDs weigh 1.8 MiB, mostly `description` prose; the validator needs only the
structure, so the shipped files drop descriptions and are written without whitespace.

Usage: python scripts/extract_argocd_schemas.py CORPUS_DIR [OUT_DIR]
  CORPUS_DIR  a folder holding application-crd.yaml, applicationset-crd.yaml, appproject-crd.yaml
              (e.g. ../shared/corpus/argocd-crds)
  OUT_DIR     default: src/gitops_promote/data/argocd
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

CRDS = {
    "application-crd.yaml": "application.schema.json",
    "applicationset-crd.yaml": "applicationset.schema.json",
    "appproject-crd.yaml": "appproject.schema.json",
}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "gitops_promote" / "data" / "argocd"


def strip_descriptions(node: Any) -> Any:
    """Drop `description` annotations; keep a property that happens to be *named* description."""
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: strip_descriptions(sub) for name, sub in value.items()}
        elif key != "description":
            out[key] = strip_descriptions(value)
    return out


def served_schema(crd: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(kind, version, schema) of the storage version, else the first served one."""
    versions = [v for v in crd["spec"]["versions"] if v.get("served")]
    version = next((v for v in versions if v.get("storage")), versions[0])
    schema = version["schema"]["openAPIV3Schema"]
    return crd["spec"]["names"]["kind"], version["name"], schema


def extract(corpus: Path, out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for source, target in CRDS.items():
        raw = (corpus / source).read_bytes()
        crd = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        kind, version, schema = served_schema(crd)
        document = {"kind": kind, "version": version, "schema": strip_descriptions(schema)}
        text = json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n"
        (out / target).write_text(text, encoding="utf-8")
        digest = hashlib.sha256(raw).hexdigest()
        lines.append(f"{target}\t{kind}\t{version}\t{source}\tsha256:{digest}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__ or "")
        return 2
    out = Path(argv[2]) if len(argv) == 3 else DEFAULT_OUT
    for line in extract(Path(argv[1]), out):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
