"""The microbenchmarks' table from a pytest-benchmark JSON (a saved run, or --benchmark-json): per operation, the
step's time at each size with its 95 % interval, the per-batch and per-element cost, and what the operation adds
over `batch` at the same sizes (its figures minus batch's: the source and the batching are in every pipeline).

    python -m benchmarks.micro.table .benchmarks/*/0001_*.json

Reads only the JSON; no TensorFlow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def operations(doc: dict) -> dict:
    """operation -> {n: extra_info} for the microbenchmarks in a pytest-benchmark document."""
    out: dict = {}
    for bench in doc.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        if "operation" in extra and extra.get("us_per_step") is not None:
            out.setdefault(extra["operation"], {})[extra["elements_per_step"]] = extra
    return out


def _ci(ci, fmt="{:,.2f}") -> str:
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]" if ci and None not in ci else "no interval"


def markdown(doc: dict) -> str:
    ops = operations(doc)
    base = ops.get("batch", {})
    base_any = next(iter(base.values()), {})
    lines = ["| operation | pipeline (n = elements per step) | us per step, n = 4 [95 %] | us per step, n = 256 [95 %] "
             "| per batch, us [≥90 %] | per element, us [≥90 %] | over `batch`: per batch, per element (us) |",
             "|---|---|---|---|---|---|---|"]
    for op, sizes in ops.items():
        ns = sorted(sizes)
        any_ = sizes[ns[0]]
        cells = [f"{sizes[n]['us_per_step']:,.2f} {_ci(sizes[n].get('us_per_step_ci95'))}" for n in ns[:2]]
        cells += ["-"] * (2 - len(cells))
        split = "per_element_us" in any_
        over = "-"
        if op != "batch" and split and "per_element_us" in base_any:
            over = (f"{any_['per_batch_us'] - base_any['per_batch_us']:+,.2f}, "
                    f"{any_['per_element_us'] - base_any['per_element_us']:+,.4f}")
        lines.append(f"| {op} | `{any_.get('pipeline', '').replace('(4', '(n').replace('(256', '(n')}` | {cells[0]} | "
                     f"{cells[1]} | "
                     + (f"{any_['per_batch_us']:,.2f} {_ci(any_.get('per_batch_us_ci'))} | "
                        f"{any_['per_element_us']:,.4f} {_ci(any_.get('per_element_us_ci'), '{:.4f}')}"
                        if split else "- | -") + f" | {over} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print("usage: python -m benchmarks.micro.table FILE.json (a pytest-benchmark JSON)", file=sys.stderr)
        return 0 if argv in (["-h"], ["--help"]) else 2
    try:
        doc = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(doc, dict) or not operations(doc):
        print(f"{argv[0]}: no tf.data microbenchmarks in it", file=sys.stderr)
        return 1
    sys.stdout.write(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
