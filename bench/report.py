"""The results table: printed, and written as Markdown and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _target(row: dict[str, Any]) -> str:
    target = row.get("target")
    if target is None:
        return "-"
    if row["group"] == "api":
        return f">= {target:.2f} x floor"
    return f">= {target:,.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    header = (
        "| db | scenario | value | unit | p50 ms | p99 ms | ratio to floor | target | met "
        "| client CPU |\n|---|---|---:|---|---:|---:|---:|---|---|---:|\n"
    )
    lines = []
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    row["db"],
                    row["scenario"],
                    _fmt(row.get("value")),
                    row.get("unit", ""),
                    _fmt(row.get("p50_ms")),
                    _fmt(row.get("p99_ms")),
                    _fmt(row.get("ratio")),
                    _target(row),
                    _fmt(row.get("met")),
                    _fmt(row.get("client_cpu_share")),
                ]
            )
            + " |"
        )
    return header + "\n".join(lines) + "\n"


def markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    parts = [
        f"# Killick benchmark results ({result['profile']['name']})\n",
        "Produced by `make bench` (`python -m bench`); see docs/benchmarks.md for what each "
        "scenario does and how to read it.\n",
        "## Machine\n",
        "\n".join(f"* {key}: {value}" for key, value in machine.items()) + "\n",
        "## Results\n",
        table(result["rows"]),
    ]
    if result.get("memory"):
        parts.append("## Peak RSS\n")
        parts.append(
            "\n".join(
                f"* {db} — {name}: largest process {m['largest_mb']} MB, "
                f"{m['processes']} process(es) {m['total_mb']} MB in all"
                for db, items in result["memory"].items()
                for name, m in items.items()
            )
            + "\n"
        )
    details = [r for r in result["rows"] if r.get("details")]
    if details:
        parts.append("## Details\n")
        for row in details:
            shown = {k: v for k, v in row["details"].items() if k not in ("per_ledger",)}
            parts.append(f"* {row['db']} — {row['scenario']}: {json.dumps(shown)}")
        parts.append("")
    if result.get("skipped"):
        parts.append("## Not measured\n")
        parts.append("\n".join(f"* {item}" for item in result["skipped"]) + "\n")
    parts.append("## Settings\n")
    parts.append("```json\n" + json.dumps(result["profile"], indent=2) + "\n```\n")
    return "\n".join(parts)


def write(result: dict[str, Any], out: Path, stem: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = out / f"{stem}.md"
    js = out / f"{stem}.json"
    md.write_text(markdown(result))
    js.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return md, js
