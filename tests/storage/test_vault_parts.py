"""The vault is assembled from each aggregate's part; no table may be left out of an erasure."""

from __future__ import annotations

import pytest

from storage import tables
from storage.errors import StorageError
from storage.stores import state, vault


def test_every_table_belongs_to_exactly_one_aggregate() -> None:
    owners: dict[str, int] = {}
    for part in vault.PARTS:
        for table in part.tables:
            owners[table.name] = owners.get(table.name, 0) + 1
    assert owners == {t.name: 1 for t in tables.metadata.sorted_tables}


def test_a_table_without_an_owner_is_refused() -> None:
    without_state = [part for part in vault.PARTS if part is not state.VAULT]
    with pytest.raises(StorageError, match="state"):
        vault.erase_order(without_state)


def test_the_export_sections_are_the_format_s_in_its_order() -> None:
    assert list(vault.export_sections(vault.PARTS)) == list(vault.EXPORT_SECTIONS)
    without_state = [part for part in vault.PARTS if part is not state.VAULT]
    with pytest.raises(StorageError, match="sections"):
        vault.export_sections(without_state)
