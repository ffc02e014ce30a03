"""The demo's Home Assistant configuration directory (scripts/develop and the end-to-end test).

``python -m demo.config DIR [PORT]`` copies what is missing of ``demo/`` into DIR. Home
Assistant listens on 127.0.0.1 only. Up to 2026.7 that is the ``http`` section of
configuration.yaml; later releases keep the HTTP server's settings in their storage and take a
YAML section only once, as a trial that the user must confirm within five minutes or Home
Assistant restarts on its defaults (every interface): there the settings go into the storage.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

DEMO: Final = Path(__file__).parent
CUSTOM_COMPONENTS: Final = DEMO.parent / "custom_components"
FILES: Final = ("configuration.yaml", "automations.yaml", "dashboard.yaml")
DEFAULT_PORT: Final = 8123
_HTTP_SECTION: Final = re.compile(r"^http:\n(?:[ \t]+.*\n|\n)*", re.MULTILINE)


def _http_storage(port: int) -> dict[str, Any] | None:
    """The HTTP settings as Home Assistant 2026.8+ stores them; None where YAML holds them."""
    try:
        http_config = importlib.import_module("homeassistant.components.http.config")
    except ImportError:
        return None
    settings = http_config.HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port})
    stable = {
        **settings,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    return {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "key": http_config.STORAGE_KEY,
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }


def prepare(config_dir: Path, port: int = DEFAULT_PORT) -> None:
    """Copy the demo's files that ``config_dir`` lacks, Home Assistant on 127.0.0.1:``port``."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if not (config_dir / name).exists():
            shutil.copy(DEMO / name, config_dir / name)
    configuration = config_dir / "configuration.yaml"
    text = (
        configuration.read_text("utf-8")
        .replace(f"server_port: {DEFAULT_PORT}", f"server_port: {port}")
        .replace(f"127.0.0.1:{DEFAULT_PORT}", f"127.0.0.1:{port}")
    )
    if (storage := _http_storage(port)) is not None:
        text = _HTTP_SECTION.sub("", text)
        stored = config_dir / ".storage" / storage["key"]
        if not stored.exists():
            stored.parent.mkdir(exist_ok=True)
            stored.write_text(json.dumps(storage, indent=2), "utf-8")
    configuration.write_text(text, "utf-8")
    link = config_dir / "custom_components"
    if not link.exists():
        link.symlink_to(CUSTOM_COMPONENTS.resolve())


if __name__ == "__main__":
    prepare(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_PORT)
