"""Architecture contract: core/ is platform-free (DESIGN.md, STYLE.md habit 1)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = (
    "adapters",
    "storage",
    "bot",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "slack_bolt",
    "slack_sdk",
    "telegram",
    "discord",
    "aiohttp",
    "httpx",
    "openai",
)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_core_imports_no_platform_sdk_storage_or_wiring() -> None:
    offences = []
    files = sorted((ROOT / "core").rglob("*.py"))
    assert len(files) > 5, "the contract must look at the real core package"
    for path in files:
        for line, module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_the_contract_check_catches_an_offence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom sqlalchemy import select\ndef f():\n    import telegram\n")
    modules = [m for _, m in imported_modules(bad)]
    assert [m for m in modules if m.split(".")[0] in FORBIDDEN] == ["sqlalchemy", "telegram"]
