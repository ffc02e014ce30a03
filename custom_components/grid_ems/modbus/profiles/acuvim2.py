"""Accuenergy Acuvim II power meter: the real primary-value map, not the seed's illustration.

Holding registers (function 0x03). Measurements are float32 with the high word first, in V, A, W,
var, VA and Hz; power is positive when the site imports (load convention). Energy counters are
uint32 (high word first) in 0.1 kWh. The float block 0x4000-0x4047 and the energy counters right
after it come in one read.
"""

from __future__ import annotations

from typing import Final

from ..profile import DataType, DeviceProfile, EntityPlatform, EntitySpec, RegisterSpec, Table

PHASES: Final = ("L1", "L2", "L3")
LINES: Final = ("L1-L2", "L2-L3", "L3-L1")


def _measurement(
    key: str,
    address: int,
    unit: str | None,
    translation_key: str,
    *,
    device_class: str,
    precision: int,
    placeholders: dict[str, str] | None = None,
    enabled: bool = True,
    plausible: tuple[float, float] | None = None,
) -> RegisterSpec:
    return RegisterSpec(
        key=key,
        table=Table.HOLDING_REGISTER,
        address=address,
        data_type=DataType.FLOAT32,
        unit=unit,
        plausible=plausible,
        # The meter's resolution, also shown: 0.1 V, 0.01 A, 1 W, 0.001 for the power factor.
        digits=precision,
        entity=EntitySpec(
            platform=EntityPlatform.SENSOR,
            translation_key=translation_key,
            translation_placeholders=placeholders or {},
            device_class=device_class,
            state_class="measurement",
            precision=precision,
            enabled_by_default=enabled,
        ),
    )


def _per_phase(
    key: str,
    first_address: int,
    unit: str | None,
    device_class: str,
    precision: int,
    *,
    names: tuple[str, ...] = PHASES,
    enabled: bool = True,
) -> tuple[RegisterSpec, ...]:
    return tuple(
        _measurement(
            f"{key}_{name.lower().replace('-', '_')}",
            first_address + 2 * index,
            unit,
            f"meter_{key}_phase",
            device_class=device_class,
            precision=precision,
            placeholders={"phase": name},
            enabled=enabled,
        )
        for index, name in enumerate(names)
    )


def _energy(key: str, address: int) -> RegisterSpec:
    return RegisterSpec(
        key=key,
        table=Table.HOLDING_REGISTER,
        address=address,
        data_type=DataType.UINT32,
        scale=0.1,
        unit="kWh",
        entity=EntitySpec(
            platform=EntityPlatform.SENSOR,
            translation_key=f"meter_{key}",
            device_class="energy",
            state_class="total_increasing",
            precision=1,
        ),
    )


PROFILE: Final = DeviceProfile(
    kind="acuvim_ii",
    manufacturer="Accuenergy",
    model="Acuvim II",
    name="Grid meter",
    # Modbus TCP comes with the AXM-WEB Ethernet module, which serves a configuration page.
    web_page=True,
    poll_interval=5.0,
    identify_keys=("frequency",),
    max_gap=16,
    registers=(
        _measurement(
            "frequency",
            0x4000,
            "Hz",
            "meter_frequency",
            device_class="frequency",
            precision=2,
            plausible=(40.0, 70.0),
        ),
        *_per_phase("voltage", 0x4002, "V", "voltage", 1),
        *_per_phase("voltage", 0x400A, "V", "voltage", 1, names=LINES, enabled=False),
        *_per_phase("current", 0x4012, "A", "current", 2),
        _measurement(
            "current_neutral",
            0x401A,
            "A",
            "meter_current_neutral",
            device_class="current",
            precision=2,
            enabled=False,
        ),
        *_per_phase("power", 0x401C, "W", "power", 0),
        _measurement("power", 0x4022, "W", "meter_power", device_class="power", precision=0),
        *_per_phase("reactive_power", 0x4024, "var", "reactive_power", 0),
        _measurement(
            "reactive_power",
            0x402A,
            "var",
            "meter_reactive_power",
            device_class="reactive_power",
            precision=0,
        ),
        *_per_phase("apparent_power", 0x402C, "VA", "apparent_power", 0),
        _measurement(
            "apparent_power",
            0x4032,
            "VA",
            "meter_apparent_power",
            device_class="apparent_power",
            precision=0,
        ),
        *_per_phase("power_factor", 0x4034, None, "power_factor", 3),
        _measurement(
            "power_factor",
            0x403A,
            None,
            "meter_power_factor",
            device_class="power_factor",
            precision=3,
        ),
        _energy("energy_import", 0x4048),
        _energy("energy_export", 0x404A),
    ),
)
