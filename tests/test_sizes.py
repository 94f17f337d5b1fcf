"""The rooms stay small enough to read: no product file over 800 lines, no class over 500, no
function over 100 (bot/, adapters/, core/, storage/; migrations excluded), and the Clone facade
under 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"file": 800, "class": 500, "function": 100}


def _oversized() -> list[str]:
    found = []
    for top in ("bot", "adapters", "core", "storage"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            name = path.relative_to(ROOT)
            if (lines := len(text.splitlines())) > LIMITS["file"]:
                found.append(f"{name}: {lines} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                    kind = "class" if isinstance(node, ast.ClassDef) else "function"
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    if size > LIMITS[kind]:
                        found.append(f"{name}:{node.lineno} {kind} {node.name}: {size} lines")
    return found


def test_no_product_file_class_or_function_is_over_its_limit() -> None:
    assert _oversized() == []


def test_the_clone_facade_stays_thin() -> None:
    assert len((ROOT / "core/service.py").read_text(encoding="utf-8").splitlines()) < 300
