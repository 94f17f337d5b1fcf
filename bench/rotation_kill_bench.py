"""Kill -9 benchmark of ``minime keys rotate``: every account stays readable with the operator's key.

For each key source (a key file in the data dir, and ``MINIME_MASTER_KEY``), one SQLite database
with ``--accounts`` accounts, then ``--rounds`` runs of ``python -m bot keys rotate`` each killed
with SIGKILL at a random instant (half anywhere in a whole run, half within the rotation proper,
after its first visible step), each followed by a check that every account reads back with exactly the keys the operator
holds (the key file; or the keys printed so far, old ones dropped only after a reported success),
and no temporary key file survives a restart. A final uninterrupted rotation must leave one key
that alone opens everything. The harness is ``tests/storage/rotation_kill.py``.

    python bench/rotation_kill_bench.py [--rounds 50] [--accounts 200] [--seed 0] [--mode file,env]

Prints, per mode, where the kills landed (judged from the state each left) and the failures;
exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.storage.rotation_kill import kill_loop

logging.getLogger("storage").setLevel(logging.ERROR)  # the loop's own restarts warn, by design


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", default="file,env")
    args = parser.parse_args()
    failed = False
    for mode in args.mode.split(","):
        with tempfile.TemporaryDirectory(prefix=f"minime-rotation-{mode}-") as root:
            started = time.perf_counter()
            report = kill_loop(
                Path(root) / "data",
                mode=mode,  # type: ignore[arg-type]
                rounds=args.rounds,
                accounts=args.accounts,
                seed_value=args.seed,
            )
        summary = {
            "mode": mode,
            "rounds": report.rounds,
            "accounts": args.accounts,
            "uninterrupted_run_s": round(report.full_run_s, 3),
            "kill_delay_s_median": round(statistics.median(report.delays_s), 3),
            "outcomes": dict(report.outcomes.most_common()),
            "temp_key_files_left_by_kills": report.temp_files_left,
            "failures": report.failures,
            "wall_s": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(summary, indent=2), flush=True)
        failed = failed or bool(report.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
