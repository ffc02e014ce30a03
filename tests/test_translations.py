"""The English, Dutch and French translations stay complete and consistent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "grid_ems" / "translations"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    else:
        yield path, node


def _load(language: str) -> dict[str, str]:
    return dict(_leaves(json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))))


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_translation_complete(language: str) -> None:
    """Every English string exists in the other language, with the same placeholders."""
    english = _load("en")
    other = _load(language)
    assert set(other) == set(english)
    for key, text in english.items():
        assert isinstance(other[key], str), key
        assert other[key].strip(), key
        assert set(PLACEHOLDER.findall(other[key])) == set(PLACEHOLDER.findall(text)), key


def test_no_untranslated_copies() -> None:
    """A Dutch or French string identical to a long English one is most likely untranslated."""
    english = _load("en")
    for language in ("nl", "fr"):
        other = _load(language)
        copies = [key for key, text in english.items() if len(text) > 40 and other[key] == text]
        assert not copies, f"{language}: {copies}"


def test_icons_match_entities_and_services() -> None:
    """Every icon belongs to a translated entity or a service, so no icon is left stale."""
    from homeassistant.util.yaml import load_yaml_dict

    integration = TRANSLATIONS.parent
    icons = json.loads((integration / "icons.json").read_text("utf-8"))
    entities = json.loads((TRANSLATIONS / "en.json").read_text("utf-8"))["entity"]
    for platform, keys in icons["entity"].items():
        assert set(keys) <= set(entities[platform]), platform
    services = load_yaml_dict(integration / "services.yaml")
    assert set(icons["services"]) == set(services)
