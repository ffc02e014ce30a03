"""What Grid EMS says to people: sentences for the logbook (translated) and the log (English).

One sentence per grid operator command and per enforcement action, built from the integration's
translations: the templates are in ``exceptions`` (``logbook_*``: the category whose texts are
free sentences with placeholders), the names of commands, constraints and states are the
entities' own. The log writes the same sentences in English and keeps a burst of them (an RTU
sending setpoints every second) at debug level, so Home Assistant never finds it "logging too
frequently".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .netflex import Command, CommandValue, Reason

LOG_LANGUAGE: Final = "en"

# The entity whose name a command's sentence uses (platform, translation key); its states name
# the values of Q mode and the reasons.
_COMMAND_ENTITIES: Final[Mapping[Command, tuple[str, str]]] = {
    **{command: ("sensor", command.value) for command in Command},
    Command.EMERGENCY_STOP_PRODUCTION: ("binary_sensor", "emergency_stop_production"),
    Command.EMERGENCY_STOP_CONSUMPTION: ("binary_sensor", "emergency_stop_consumption"),
    Command.TEST: ("binary_sensor", "test_mode"),
}
_Q_MODES: Final = {1: "local", 2: "remote"}
"""Q mode's double command: OFF (1) is local control, ON (2) remote."""
_REASONS: Final = {float(reason): reason.key for reason in Reason}


async def async_load_log_language(hass: HomeAssistant) -> None:
    """Have the log's (English) texts at hand whatever language Home Assistant speaks."""
    await async_get_translations(hass, LOG_LANGUAGE, "exceptions", {DOMAIN})


class Texts:
    """The integration's translations in one language, as the translation cache holds them."""

    def __init__(self, hass: HomeAssistant, language: str) -> None:
        """Read the cached texts of ``language``, English where it has none (yet)."""
        self._texts = {
            key: text
            for each in dict.fromkeys((LOG_LANGUAGE, language))
            for category in ("entity", "exceptions")
            for key, text in async_get_cached_translations(hass, each, category, DOMAIN).items()
        }

    def get(self, key: str, default: str) -> str:
        """The text at ``component.grid_ems.<key>``, or ``default`` where there is none."""
        return self._texts.get(f"component.{DOMAIN}.{key}", default)

    def sentence(self, template: str, **placeholders: object) -> str:
        """A ``logbook_<template>`` sentence with its placeholders filled in."""
        text = self.get(f"exceptions.logbook_{template}.message", template)
        return text.format(**{key: str(value) for key, value in placeholders.items()})


def _command_name(texts: Texts, command: str | None, ioa: object) -> str:
    if command is None:
        return texts.sentence("no_command_point", ioa=ioa)
    platform, key = _COMMAND_ENTITIES[Command(command)]
    return texts.get(f"entity.{platform}.{key}.name", command)


def _on_off(texts: Texts, value: bool) -> str:
    return texts.get(f"exceptions.logbook_{'on' if value else 'off'}.message", str(value))


def _command_value(texts: Texts, command: Command, value: CommandValue) -> str:
    """A command's value as the entity that shows it words it."""
    platform, key = _COMMAND_ENTITIES[command]
    state: str | None = None
    if command is Command.Q_MODE and value in _Q_MODES:
        state = _Q_MODES[int(str(value))]
    elif command in (Command.REASON_P, Command.REASON_Q) and value in _REASONS:
        state = _REASONS[float(str(value))]
    if state is not None:
        return texts.get(f"entity.{platform}.{key}.state.{state}", state)
    if isinstance(value, bool):
        return _on_off(texts, value)
    # A setpoint: accepted ones are finite percentages.
    return f"{value:g} %"


def command_sentence(texts: Texts, data: Mapping[str, Any]) -> str:
    """A grid operator's command (the data of its event) as one sentence.

    "Emergency stop production switched on by the grid operator (RTU 10.0.0.2)".
    """
    origin = (
        texts.sentence("origin_local")
        if data["local"]
        else texts.sentence("origin_rtu", address=data["source"])
    )
    name = _command_name(texts, data["command"], data["ioa"])
    value = data["value"]
    if not data["accepted"]:
        refusal = data["refusal"]
        reason = texts.get(
            f"entity.event.dso_command.state_attributes.refusal.state.{refusal}", refusal
        )
        return texts.sentence("refused", command=name, value=value, origin=origin, reason=reason)
    if isinstance(value, bool):
        return texts.sentence(
            "switched_on" if value else "switched_off", command=name, origin=origin
        )
    shown = _command_value(texts, Command(data["command"]), value)
    return texts.sentence("set", command=name, value=shown, origin=origin)


def action_sentence(texts: Texts, data: Mapping[str, Any]) -> str:
    """An enforcement action (the data of its event) as one sentence.

    "Set to 1.0 for Emergency stop production (Grid operator), after the command Emergency stop
    production = on at 10:15:03".
    """
    value = data["value"]
    if isinstance(value, bool):
        value = _on_off(texts, value)
    if data["constraint"] is None:
        done = texts.sentence("action_restored" if data["restore"] else "action_set", value=value)
    else:
        constraint = texts.get(
            f"entity.sensor.active_constraint.state.{data['constraint']}", data["constraint"]
        )
        source = texts.get(
            f"entity.sensor.constraint_source.state.{data['source']}", data["source"]
        )
        done = texts.sentence(
            "action_restored_for" if data["restore"] else "action_set_for",
            value=value,
            constraint=constraint,
            source=source,
        )
    if (command := data["command"]) is not None:
        # The command that caused it: everything the enforcement does names one.
        at = dt_util.parse_datetime(data["command_time"])
        done = texts.sentence(
            "action_command",
            action=done,
            command=_command_name(texts, command, None),
            value=_command_value(texts, Command(command), data["command_value"]),
            time="?" if at is None else dt_util.as_local(at).strftime("%H:%M:%S"),
        )
    if data["ok"]:
        return done
    return texts.sentence("action_failed", action=done, error=data["error"])


class BurstLog:
    """Lines of one kind at their level at most once per ``interval`` per key, the rest at debug.

    A burst of commands stays readable, and below Home Assistant's rate warning.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Log on ``logger``; ``clock`` in seconds."""
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[object, float] = {}

    @callback
    def log(self, level: int, key: object, message: str) -> None:
        """Log ``message`` at ``level``, or at debug if a line of ``key`` came just before."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._logger.debug("%s", message)
            return
        self._last[key] = now
        self._logger.log(level, "%s", message)
