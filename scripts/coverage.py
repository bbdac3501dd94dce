#!/usr/bin/env python3
"""Contract coverage of the REST gateway: which of the contract's operations it serves.

Reads the gateway's OpenAPI document (a URL such as http://127.0.0.1:8080/openapi.json, or a
file) and the contract's operations.tsv, and prints, per spec and tag, the operations served out
of those in the contract, then the total. Path parameters match whatever their names, since the
same route may name its parameter differently per method ({id} and {userId}).

Usage: coverage.py OPENAPI [--operations operations.tsv] [--missing] [--min PERCENT]
"""

import argparse
import csv
import json
import os
import re
import sys
import urllib.request
from collections import OrderedDict
from pathlib import Path

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def default_operations():
    """operations.tsv of the contract: $SIGIL_CONTRACT_DIR, else shared/ beside the repository."""
    contract = os.environ.get("SIGIL_CONTRACT_DIR")
    if contract:
        return Path(contract) / "operations.tsv"
    return Path(__file__).resolve().parents[2] / "shared" / "frontegg-api" / "operations.tsv"


def normalize(path):
    """The path with each parameter name erased and no trailing slash."""
    path = re.sub(r"\{[^}/]*\}", "{}", path)
    return path.rstrip("/") or "/"


def load_document(source):
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=30) as response:
            return json.load(response)
    with open(source, encoding="utf-8") as file:
        return json.load(file)


def served_operations(document):
    """(METHOD, normalized path) of every operation in the document."""
    served = set()
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                served.add((method.upper(), normalize(path)))
    return served


def contract_operations(path):
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t"))
    needed = {"spec", "tag", "method", "path", "operationId"}
    if not rows or not needed.issubset(rows[0].keys()):
        sys.exit(f"{path}: expected the columns {sorted(needed)}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("openapi", help="URL or file of the gateway's OpenAPI document")
    parser.add_argument("--operations", type=Path, default=None, help="the contract's operations.tsv")
    parser.add_argument("--missing", action="store_true", help="also list the operations not served")
    parser.add_argument("--min", type=float, default=None, help="fail below this total percentage")
    args = parser.parse_args()

    document = load_document(args.openapi)
    served = served_operations(document)
    rows = contract_operations(args.operations or default_operations())

    groups = OrderedDict()
    contract_keys = set()
    for row in sorted(rows, key=lambda r: (r["spec"], r["tag"])):
        key = (row["method"].upper(), normalize(row["path"]))
        contract_keys.add(key)
        group = groups.setdefault((row["spec"], row["tag"]), {"served": 0, "total": 0, "missing": []})
        group["total"] += 1
        if key in served:
            group["served"] += 1
        else:
            group["missing"].append(f"{row['method'].upper()} {row['path']} ({row['operationId']})")

    width = max(len(f"{spec} / {tag}") for spec, tag in groups) if groups else 10
    print(f"{'spec / tag':<{width}}  served / total")
    for (spec, tag), group in groups.items():
        print(f"{spec + ' / ' + tag:<{width}}  {group['served']:>6} / {group['total']:<5}")
        if args.missing:
            for line in group["missing"]:
                print(f"{'':<{width}}    missing: {line}")
    total_served = sum(g["served"] for g in groups.values())
    total = sum(g["total"] for g in groups.values())
    percent = 100.0 * total_served / total if total else 0.0
    print(f"{'TOTAL':<{width}}  {total_served:>6} / {total:<5} ({percent:.1f}%)")

    extra = sorted(served - contract_keys)
    if extra:
        print(f"served outside the contract ({len(extra)}): " + ", ".join(f"{m} {p}" for m, p in extra))

    if args.min is not None and percent < args.min:
        sys.exit(f"coverage {percent:.1f}% is below {args.min}%")


if __name__ == "__main__":
    main()
