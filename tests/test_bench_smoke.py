"""`make bench-quick` end to end: every scenario runs, matches its limit and loses nothing.

The figures themselves are not judged here (a shared CI machine is too noisy for that); what is
checked is that the benchmark still works against the app as it is: a broken scenario, figures
that differ from the hand-written SQL, an error under load or a lost answer fails the test.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_the_quick_benchmark_runs_every_scenario_cleanly(tmp_path: Path) -> None:
    backend = "both" if os.environ.get("REDBUTTON_TEST_POSTGRES_URL") else "sqlite"
    output = tmp_path / "RESULTS-quick.md"
    finished = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--backend", backend, "--output", output],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = [line for line in output.read_text().splitlines() if line.startswith("| ")]
    scenarios = [row for row in rows if " | " in row and not row.startswith("| scenario")]
    names = {row.split(" | ")[0].removeprefix("| ") for row in scenarios}
    assert {"team trends", "org roll-up", "webhook ingest", "submission burst"} <= names, names
    for row in scenarios:
        assert "FAILED" not in row and "skipped" not in row, row
        assert "MISMATCH" not in row and "LOST OR EXTRA" not in row, row
        if row.startswith(("| webhook ingest", "| submission burst")):
            assert ", 0 errors" in row, row
        if row.startswith(("| team trends", "| org roll-up")):
            assert "figures match the limit" in row, row
