"""Fixtures of the P1 tests: the real telegrams of the shared corpus."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

CORPUS: Final = Path(__file__).parents[2] / ".." / "shared" / "p1-telegrams"
"""The shared telegram corpus; CI clones the repository with shared/ beside it."""


@dataclass(frozen=True, slots=True)
class CorpusTelegram:
    """One real telegram and what it must give."""

    name: str
    data: bytes
    crc_ok: bool
    values: dict[str, Any]


def load_corpus() -> list[CorpusTelegram]:
    """Read every telegram of the corpus with its expected values (fails if it is missing)."""
    expected = json.loads((CORPUS / "expected.json").read_text("utf-8"))
    return [
        CorpusTelegram(
            name=Path(entry["file"]).stem,
            data=(CORPUS / entry["file"]).read_bytes(),
            crc_ok=entry["crc_ok"],
            values=entry["values"],
        )
        for entry in expected
    ]
