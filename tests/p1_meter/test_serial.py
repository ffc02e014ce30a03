"""A USB P1 cable: the config flow lists it, telegrams come through a real serial device (a
pseudo-terminal), and unplugging and replugging it (its /dev/serial/by-id link gone and back)
brings the entities back within 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import tty
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

import pytest
import serialx
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.grid_ems import p1_meter
from custom_components.grid_ems.const import DOMAIN
from simulators.p1 import SimulatedMeter

from .conftest import METER_ID, StateWaiter, state_of
from .test_bad_values import RECONNECT_BACKOFF

GRID_POWER = "sensor.p1_meter_grid_power"


def _port(
    device: str, product: str | None = None, manufacturer: str | None = None
) -> serialx.SerialPortInfo:
    return serialx.SerialPortInfo(
        device=device,
        resolved_device=device,
        vid=None,
        pid=None,
        serial_number=None,
        manufacturer=manufacturer,
        product=product,
        bcd_device=None,
        interface_description=None,
        interface_num=None,
    )


@dataclass
class UsbCable:
    """A P1 cable as the host sees it: a serial device behind a /dev/serial/by-id link.

    The meter writes a telegram every ``interval`` seconds into the master side of a
    pseudo-terminal; ``unplug`` closes it and removes the link, ``replug`` makes a new one.
    """

    link: Path
    meter: SimulatedMeter = field(default_factory=SimulatedMeter)
    interval: float = 0.05
    _master: int | None = None
    _writer: asyncio.Task[None] | None = None

    def plug(self) -> None:
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line editing: a serial line
        os.set_blocking(master, False)
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(slave))
        os.close(slave)
        self._master = master
        self._writer = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while True:
            assert self._master is not None
            with contextlib.suppress(BlockingIOError, OSError):  # nobody reading: lost bytes
                os.write(self._master, self.meter.telegram())
            await asyncio.sleep(self.interval)

    async def unplug(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._master is not None:
            os.close(self._master)
            self._master = None
        self.link.unlink(missing_ok=True)


@pytest.fixture
async def cable(tmp_path: Path) -> AsyncIterator[UsbCable]:
    """A plugged-in P1 cable."""
    by_id = tmp_path / "serial" / "by-id"
    by_id.mkdir(parents=True)
    cable = UsbCable(by_id / "usb-FTDI_P1_cable_A10K1234-if00-port0")
    cable.meter.override_power = 1500
    cable.plug()
    yield cable
    await cable.unplug()


@pytest.fixture
def ports(cable: UsbCable) -> Iterator[None]:
    """The host's serial ports: a built-in UART and the cable, under its by-id link."""
    found = [_port("/dev/ttyS0"), _port(str(cable.link), "P1 cable", "FTDI")]
    with patch("serialx.async_list_serial_ports", return_value=found):
        yield


@pytest.mark.usefixtures("ports")
async def test_flow_lists_ports_and_the_cable_works_after_replug(
    hass: HomeAssistant, cable: UsbCable
) -> None:
    """Set-up through the flow on the by-id path; unplug, replug: back within 5 s."""
    with patch.object(p1_meter, "RECONNECT_BACKOFF", RECONNECT_BACKOFF):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "p1_meter"}
        )
        assert result["type"] is FlowResultType.FORM
        schema = result["data_schema"]
        assert schema is not None
        selector = schema.schema[CONF_PORT]
        config = selector.config
        assert config["custom_value"] is True
        assert config["options"] == [
            {"value": str(cable.link), "label": f"{cable.link} (FTDI - P1 cable)"},
            {"value": "/dev/ttyS0", "label": "/dev/ttyS0"},
        ]
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: str(cable.link)}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_PORT] == str(cable.link)
        entry = result["result"]
        assert entry.unique_id == METER_ID
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        power = StateWaiter(hass, GRID_POWER)
        await power.wait_for("1500")

        await cable.unplug()
        await power.wait_for(STATE_UNAVAILABLE)
        cable.meter.override_power = 1800
        cable.plug()
        start = hass.loop.time()
        await power.wait_for("1800")
        assert hass.loop.time() - start < 5
        assert state_of(hass, GRID_POWER) == "1800"
        assert await hass.config_entries.async_unload(entry.entry_id)
