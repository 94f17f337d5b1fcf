"""`minime import` of a whole corpus, old code against new, in the same run.

    .venv/bin/python bench/import_bench.py [--corpus ../shared/data/ubuntu-irc/messages.jsonl.gz]
        [--me actionparsnip] [--refs c82f630 worktree] [--rounds 1]

Each ref is the project at a git commit (extracted with ``git archive`` into a temporary
directory) or ``worktree`` (this checkout, uncommitted changes included). Every round runs each
ref once, in turn, as its own ``python -m bot import`` process on a fresh data dir (the shared
virtual environment; the ref's own code first on the path), so both meet the same machine
state. Per run: wall time, CPU time (user + system) and peak RSS of the process (``wait4``, as
``/usr/bin/time -v`` reports it). At the end: the medians and the old/new ratios.

The default old ref, c82f630, is main just before issue 20's work (the torch encoder, every
text embedded per model); the goals are import ≥ 2x faster end to end and peak RSS ≤ 600 MB.
The machine is shared: read the ratios, taken in one run, as the stable part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD = "c82f630"
"""main before issue 20 (the last commit with the torch encoder as the default)."""


@dataclass(frozen=True, slots=True)
class Run:
    ref: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    status: int


def tree_of(ref: str, scratch: Path) -> Path:
    """The project's files at ``ref`` (``worktree``: this checkout as it is)."""
    if ref == "worktree":
        return ROOT
    target = scratch / ref.replace("/", "_")
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
            check=True,
            capture_output=True,
        ).stdout
        archive_path = scratch / f"{target.name}.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(target, filter="data")
    return target


def run_import(ref: str, tree: Path, corpus: Path, me: str, scratch: Path) -> Run:
    """One ``import`` in a child process on a fresh data dir; its wall, CPU and peak RSS."""
    data_dir = Path(tempfile.mkdtemp(prefix="import-bench-", dir=scratch))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIME_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(tree), MINIME_LOG_LEVEL="WARNING")
    argv = [sys.executable, "-m", "bot", "--data-dir", str(data_dir), "import", str(corpus)]
    argv += ["--user", "bench", "--me", me, "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    out = (child.stdout.read() if child.stdout else b"").decode(errors="replace")
    err = (child.stderr.read() if child.stderr else b"").decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"  {ref}: exit {code}\n{err[-2000:]}", file=sys.stderr)
    elif out.strip():
        print(f"  {ref}: {out.strip().splitlines()[-1][:160]}")
    return Run(
        ref=ref,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        status=code,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/data/ubuntu-irc/messages.jsonl.gz"
    )
    parser.add_argument("--me", default="actionparsnip", help="the corpus sender who is 'me'")
    parser.add_argument(
        "--refs", nargs="+", default=[OLD, "worktree"], help="git refs, or 'worktree' (first: old)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each ref, interleaved")
    parser.add_argument("--scratch", type=Path, default=None, help="where trees and data go")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"no corpus at {args.corpus} (give --corpus)")
    with tempfile.TemporaryDirectory(prefix="import-bench-", dir=args.scratch) as tmp:
        scratch = Path(tmp)
        trees = {ref: tree_of(ref, scratch) for ref in args.refs}
        print(f"corpus {args.corpus} as '{args.me}'; refs {', '.join(args.refs)}; "
              f"{args.rounds} round(s); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        runs: list[Run] = []
        for round_ in range(args.rounds):
            order = args.refs if round_ % 2 == 0 else list(reversed(args.refs))
            for ref in order:
                run = run_import(ref, trees[ref], args.corpus, args.me, scratch)
                runs.append(run)
                print(
                    f"round {round_ + 1} {ref:>10}: wall {run.wall_s:6.1f} s  CPU "
                    f"{run.cpu_s:6.1f} s  peak RSS {run.peak_mib:6.0f} MiB  "
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    if any(r.status for r in runs):
        return 1
    print("\nmedians (ratio: first ref / this one)")
    first = args.refs[0]
    base = {
        "wall": statistics.median(r.wall_s for r in runs if r.ref == first),
        "cpu": statistics.median(r.cpu_s for r in runs if r.ref == first),
    }
    for ref in args.refs:
        mine = [r for r in runs if r.ref == ref]
        wall = statistics.median(r.wall_s for r in mine)
        cpu = statistics.median(r.cpu_s for r in mine)
        peak = max(r.peak_mib for r in mine)
        print(
            f"{ref:>10}: wall {wall:6.1f} s ({base['wall'] / wall:4.2f}x)  CPU {cpu:6.1f} s "
            f"({base['cpu'] / cpu:4.2f}x)  peak RSS (max of rounds) {peak:5.0f} MiB = "
            f"{peak * 1.048576:5.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
