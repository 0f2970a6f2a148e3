"""The benchmark harness runs each scenario once, at tiny size (``--quick``, SQLite).

No figure is checked here (speed is measured by ``make bench``, never asserted): only
that every scenario ran and did its work correctly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_scenario_runs_once(tmp_path: Path) -> None:
    run = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "bench", "--quick", "--db", "sqlite", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    result = json.loads((tmp_path / "quick.json").read_text())
    rows = {row["scenario"]: row for row in result["rows"]}
    api = [row for row in result["rows"] if row["group"] == "api"]
    assert len(api) == 9  # the floor twice and seven scenarios
    assert all(row["operations"] > 0 and row["errors"] == 0 for row in api)
    for channels in (1, 10):
        settled = rows[f"deposits settled per close, {channels} channel(s)"]["details"]
        assert settled["completed"] == settled["seeded"]
    matched = next(row for row in result["rows"] if row["scenario"].startswith("withdrawal"))
    assert matched["details"]["matched"] == matched["details"]["backlog"]
    assert rows["poll_pending_deposits to payment applied"]["details"]["paid"] > 0
    memory = next(row for row in result["rows"] if row["group"] == "memory")
    assert memory["details"]["peak_rss_mb"] > 0
    assert result["machine"]["cores"] and result["machine"]["cpu"]
    assert result["failures"] == []
    assert (tmp_path / "quick.md").read_text().startswith("# Killick benchmark results")
