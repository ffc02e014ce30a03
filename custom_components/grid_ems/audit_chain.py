"""The hash-chained audit trails in Home Assistant: their storage and their repair issue.

The link's command audit and the enforcement's action log are each a hash chain
(``netflex/chain.py``). Both are stored the same way: a ``Store`` whose minor version 2 holds
the records with their hashes and the chain's anchor; records stored before (minor version 1)
are chained once when first loaded, and that migration is noted in the file. A chain that does
not verify raises a repair issue naming the file and the first broken record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .netflex import (
    ANCHOR_KEY,
    MIGRATIONS_KEY,
    ChainStatus,
    migrate_trail,
    stored_anchor,
    stored_records,
)

_LOGGER = logging.getLogger(__package__)

STORAGE_VERSION: Final = 1
CHAINED_MINOR_VERSION: Final = 2
"""Minor version 2: the records are hash-chained (older versions can still read them)."""
ISSUE_CHAIN_BROKEN: Final = "audit_chain_broken"


class ChainedStore(Store[dict[str, Any]]):
    """The storage of one chained trail (records under ``records_key``) and its repair issue."""

    def __init__(self, hass: HomeAssistant, key: str, records_key: str) -> None:
        """Store ``key`` in Home Assistant's storage folder."""
        super().__init__(hass, STORAGE_VERSION, key, minor_version=CHAINED_MINOR_VERSION)
        self.records_key = records_key
        self.migrations: list[Any] = []
        """When stored records without a hash were chained (from the stored data)."""
        self._reported: bool | None = None
        """Whether the chain verified when last reported (None: not reported yet)."""

    @property
    def file(self) -> str:
        """The file, relative to the configuration folder (shown in the repair issue)."""
        return f"{STORAGE_DIR}/{self.key}"

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Chain the records of a trail stored before the chain (or by an older version)."""
        if old_major_version != STORAGE_VERSION:
            raise NotImplementedError
        if old_minor_version >= CHAINED_MINOR_VERSION:
            return old_data
        return migrate_trail(old_data, self.records_key, dt_util.utcnow().isoformat())

    async def async_load_trail(self) -> tuple[dict[str, Any], list[Mapping[str, Any]], str]:
        """The stored data, its records as stored (nothing dropped) and their anchor."""
        stored = await self.async_load() or {}
        migrations = stored.get(MIGRATIONS_KEY)
        self.migrations = migrations if isinstance(migrations, list) else []
        return stored, stored_records(stored.get(self.records_key)), stored_anchor(stored)

    def trail_data(self, records: list[Mapping[str, Any]], anchor: str) -> dict[str, Any]:
        """What to store of a trail: its records, their anchor and the migrations."""
        return {self.records_key: records, ANCHOR_KEY: anchor, MIGRATIONS_KEY: self.migrations}

    def diagnostics(self, status: ChainStatus, anchor: str) -> dict[str, Any]:
        """The chain for the diagnostics: whether it verifies, its anchor and migrations."""
        return {**status.as_dict(), ANCHOR_KEY: anchor, MIGRATIONS_KEY: self.migrations}

    @callback
    def async_report(self, entry_id: str, status: ChainStatus) -> None:
        """Log a newly broken chain and raise its repair issue; remove it once it verifies.

        Cheap when nothing changed (called after every record: a break can drop off).
        """
        if status.verified == self._reported:
            return
        self._reported = status.verified
        issue = issue_id(entry_id, self)
        if status.verified:
            ir.async_delete_issue(self.hass, DOMAIN, issue)
            return
        _LOGGER.error(
            "The hash chain of %s is broken at record %s of %s: a stored record was changed, "
            "removed or reordered",
            self.file,
            status.broken_at,
            status.records,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_CHAIN_BROKEN,
            translation_placeholders={
                "file": self.file,
                "index": str(status.broken_at),
                "records": str(status.records),
            },
        )

    async def async_remove_trail(self, entry_id: str) -> None:
        """Delete the trail of a removed entry, and its repair issue."""
        await self.async_remove()
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(entry_id, self))


def issue_id(entry_id: str, store: ChainedStore) -> str:
    """The repair issue of one trail of one entry."""
    return f"{ISSUE_CHAIN_BROKEN}_{entry_id}_{store.records_key}"
