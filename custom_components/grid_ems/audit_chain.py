"""The hash-chained audit trails in Home Assistant: their storage and their repair issue.

The link's command audit and the enforcement's action log are each a hash chain
(``netflex/chain.py``). Both are stored the same way: a ``Store`` whose minor version 2 holds
the records with their hashes and the chain's anchor; records stored before (minor version 1)
are chained once when first loaded, and that migration is noted in the file. A chain that does
not verify raises a repair issue naming the file and the first broken record.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .netflex import ChainStatus, migrate_trail

STORAGE_VERSION: Final = 1
CHAINED_MINOR_VERSION: Final = 2
"""Minor version 2: the records are hash-chained (older versions can still read them)."""
ISSUE_CHAIN_BROKEN: Final = "audit_chain_broken"


class ChainedStore(Store[dict[str, Any]]):
    """The storage of one chained trail; the records are under ``records_key``."""

    def __init__(self, hass: HomeAssistant, key: str, records_key: str) -> None:
        """Store ``key`` in Home Assistant's storage folder."""
        super().__init__(hass, STORAGE_VERSION, key, minor_version=CHAINED_MINOR_VERSION)
        self.records_key = records_key

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

    async def async_remove_trail(self, entry_id: str) -> None:
        """Delete the trail of a removed entry, and its repair issue."""
        await self.async_remove()
        ir.async_delete_issue(self.hass, DOMAIN, issue_id(entry_id, self))


def issue_id(entry_id: str, store: ChainedStore) -> str:
    """The repair issue of one trail of one entry."""
    return f"{ISSUE_CHAIN_BROKEN}_{entry_id}_{store.records_key}"


@callback
def async_report_chain(
    hass: HomeAssistant, entry_id: str, store: ChainedStore, status: ChainStatus
) -> None:
    """Raise the repair issue of a broken chain, or remove it once the chain verifies."""
    issue = issue_id(entry_id, store)
    if status.verified:
        ir.async_delete_issue(hass, DOMAIN, issue)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_CHAIN_BROKEN,
        translation_placeholders={
            "file": store.file,
            "index": str(status.broken_at),
            "records": str(status.records),
        },
    )
