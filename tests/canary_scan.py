"""Byte scans for message-text canaries in a directory: in every file's bytes and inside every
zip member (an export is deflated, so its bytes alone would hide a canary)."""

from __future__ import annotations

import zipfile
from pathlib import Path


def canary_files(root: Path, canary: str) -> list[Path]:
    """Files under ``root`` holding ``canary``, in their bytes or inside a zip member."""
    needle = canary.encode()
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if needle in path.read_bytes():
            found.append(path)
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if any(needle in archive.read(name) for name in archive.namelist()):
                    found.append(path)
    return found
