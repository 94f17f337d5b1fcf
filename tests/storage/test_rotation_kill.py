"""``minime keys rotate`` killed with SIGKILL at random instants leaves every account readable.

The harness is ``tests/storage/rotation_kill.py``; ``bench/rotation_kill_bench.py`` runs the
same loop 50 times per key source. Here a few rounds each (every round starts a Python process).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.storage.rotation_kill import Mode, kill_loop

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["file", "env"])
def test_rotation_killed_at_random_instants(mode: Mode, tmp_path: Path) -> None:
    report = kill_loop(tmp_path / "data", mode=mode, rounds=4, accounts=50, seed_value=15)
    assert report.failures == [], report
    assert report.rounds == 4
