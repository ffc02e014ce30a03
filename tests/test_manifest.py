"""Check manifest.json and hacs.json against what hassfest and HACS require.

Their validators cannot run here (they need the network or a core checkout), so the rules that
matter for installing from HACS are checked directly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import homeassistant
import pytest
from awesomeversion import AwesomeVersion
from homeassistant.const import __version__ as ha_version
from packaging.requirements import Requirement

REPO = Path(__file__).parents[1]
INTEGRATION = REPO / "custom_components" / "grid_ems"
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
    "virtual",
}
# Pulled in by Home Assistant itself or test-only: listing them would break installs on current HA.
FORBIDDEN_REQUIREMENTS = {"voluptuous", "pyserial-asyncio", "c104"}
# What Home Assistant itself pins, at the minimum (2025.4.4) and in the newest releases (2026.10.4,
# 2026.11.0); HA 2025.4 has no serialx.
HOME_ASSISTANT_PINS = {
    "pymodbus": ("3.8.3", "3.13.1"),
    "dsmr-parser": ("1.4.2", "1.11.1"),
    "serialx": ("1.11.0", "1.15.1"),
}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(name="manifest")
def manifest_fixture() -> dict[str, Any]:
    """Return the parsed manifest."""
    return _load(INTEGRATION / "manifest.json")


def test_manifest_required_keys(manifest: dict[str, Any]) -> None:
    """Hassfest requires these keys for a custom integration; HACS requires a version."""
    for key in ("domain", "name", "codeowners", "documentation", "issue_tracker", "version"):
        assert manifest[key], key
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest["iot_class"] == "local_push"
    assert manifest["integration_type"] in INTEGRATION_TYPES
    assert manifest["integration_type"] == "hub"
    assert AwesomeVersion(manifest["version"]).valid
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")


def test_manifest_keys_sorted(manifest: dict[str, Any]) -> None:
    """Hassfest wants domain and name first, then the other keys in alphabetical order."""
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_requirements_are_ranges(manifest: dict[str, Any]) -> None:
    """Requirements are version ranges compatible with what Home Assistant pins itself."""
    names = set()
    for line in manifest["requirements"]:
        requirement = Requirement(line)
        names.add(requirement.name)
        assert requirement.specifier, f"{line} has no version range"
        assert not any(spec.operator == "==" for spec in requirement.specifier), line
    assert not names & FORBIDDEN_REQUIREMENTS
    assert {"pymodbus", "dsmr-parser", "serialx"} <= names
    # What Home Assistant pins, from the minimum to the newest release (2026.11), must satisfy
    # the ranges, so installing Grid EMS never replaces Home Assistant's own copy.
    ranges = {
        Requirement(line).name: Requirement(line).specifier for line in manifest["requirements"]
    }
    for name, pins in HOME_ASSISTANT_PINS.items():
        for pin in pins:
            assert ranges[name].contains(pin), f"{name} {pin} outside {ranges[name]}"


def test_manifest_ranges_contain_the_pins_of_this_home_assistant(manifest: dict[str, Any]) -> None:
    """The Home Assistant under test (either end of the range) pins versions inside the ranges."""
    ranges = {
        Requirement(line).name: Requirement(line).specifier for line in manifest["requirements"]
    }
    core = Path(homeassistant.__file__).parent / "components"
    for component in ("dsmr", "modbus", "usb"):
        for line in _load(core / component / "manifest.json").get("requirements", []):
            pinned = Requirement(line)
            if pinned.name in ranges:
                (version,) = (spec.version for spec in pinned.specifier)
                assert ranges[pinned.name].contains(version), line


def test_hacs_json() -> None:
    """HACS needs a name and a minimum HA version no newer than the tested one."""
    hacs = _load(REPO / "hacs.json")
    assert hacs["name"] == "Grid EMS"
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", hacs["homeassistant"])
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(ha_version)


def test_brand_icons() -> None:
    """The brand folder carries the icon in both sizes HA's brands repository uses."""
    from PIL import Image

    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.size == (size, size)
            assert image.format == "PNG"
