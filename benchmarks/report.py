"""Regenerate the figures in benchmarks/RESULTS.md from benchmarks/results/*.json.

RESULTS.md is prose written by people plus generated blocks::

    <!-- generated:thermal -->
    ...tables rendered from results/thermal.json...
    <!-- /generated:thermal -->

Only the text between a pair of markers is replaced; everything else is kept. A result
without markers gets a new section at the end; markers without a result are left as
they are. ``<!-- generated:machine -->`` holds the machine of the latest run.

    .venv/bin/python benchmarks/report.py          # also: benchmarks/run.py --report
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
RESULTS_MD = REPO / "benchmarks" / "RESULTS.md"
BLOCK = re.compile(r"<!-- generated:(?P<name>[\w-]+) -->\n.*?<!-- /generated:(?P=name) -->", re.S)


def cell(value: Any) -> str:
    """A table cell: numbers rounded for reading, everything else as text."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        size = abs(value)
        return f"{value:.0f}" if size >= 100 else f"{value:.1f}" if size >= 10 else f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_table(spec: dict[str, Any]) -> list[str]:
    """A Markdown table with its title."""
    lines = [f"**{spec['title']}**", ""] if spec.get("title") else []
    lines.append("| " + " | ".join(cell(c) for c in spec["columns"]) + " |")
    lines.append("|" + "---|" * len(spec["columns"]))
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in spec["rows"])
    return [*lines, ""]


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def render_result(record: dict[str, Any]) -> str:
    """The generated block of one benchmark run."""
    m = record["machine"]
    result = record["result"]
    lines = [
        f"Measured {m['date_utc'].replace('T', ' ').replace('+00:00', ' UTC')} by `bash scripts/bench.sh "
        f"{record['name']}` ({record['seconds']:.0f} s): `{record['command']}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; load average "
        f"(1/5/15 min) {_load(m['load_average'])} before, {_load(record['load_average_after'])} after.",
        "",
    ]
    for spec in result.get("tables", []):
        lines.extend(render_table(spec))
    if result.get("stdout"):
        lines.extend(["Printed by the script (it writes no --json yet):", "", "```", *result["stdout"]])
        lines.extend(["```", ""])
    for note in result.get("notes", []):
        lines.append(f"- {note}")
    if result.get("notes"):
        lines.append("")
    versions = {**result.get("versions", {}), **record.get("peers", {})}
    shown = "; ".join(
        f"{k}: {str(v).split(' OUTPUT=')[0].split(' (ssl)')[0]}" for k, v in versions.items() if v
    )
    lines.extend([f"Versions: {shown}.", ""])
    return "\n".join(lines)


def render_machine(machine: dict[str, Any]) -> str:
    """The machine of the latest run."""
    return (
        f"Latest run {machine['date_utc'].replace('T', ' ').replace('+00:00', ' UTC')}: {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_gib']} GiB, {machine['os']} "
        f"(kernel {machine['kernel']}), "
        f"Python {machine['python']}; load average at the end {_load(machine['load_average'])}.\n"
    )


def regenerate(results: Path = RESULTS, target: Path = RESULTS_MD) -> list[str]:
    """Rewrite the generated blocks of ``target``; return the names rendered."""
    blocks: dict[str, str] = {}
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        blocks[path.stem] = render_machine(data) if path.stem == "machine" else render_result(data)
    text = target.read_text(encoding="utf-8") if target.exists() else "# Benchmark results\n"
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        seen.add(name)
        if name not in blocks:
            return match[0]
        return f"<!-- generated:{name} -->\n{blocks[name]}<!-- /generated:{name} -->"

    text = BLOCK.sub(replace, text)
    for name in sorted(set(blocks) - seen):
        text = text.rstrip("\n") + f"\n\n## {name} (generated)\n\n<!-- generated:{name} -->\n"
        text += f"{blocks[name]}<!-- /generated:{name} -->\n"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    print(f"report: {target} regenerated ({', '.join(sorted(blocks)) or 'no results'})", file=sys.stderr)
    return sorted(blocks)


if __name__ == "__main__":
    regenerate()
