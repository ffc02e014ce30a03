"""Moxa ioLogik E1200 remote I/O: the E1211, E1212 and E1214 maps.

Outputs (relays or digital outputs) are coils from 0x0000 (read 0x01, write 0x05); inputs are
discrete inputs from 0x0000 (0x02). The E1212's eight DIO channels are taken as outputs (coils
0-7); its sixteen inputs include the DIO channels' read-back.

Every output can take a relay role (emergency stop of production or of consumption). The modules'
host-connection watchdog (set in their web console, not over Modbus) puts each output in its
configured safe state when no host talks to them for the watchdog timeout; polling keeps it fed.
Once it tripped, coil 0x1030 reads 1 and output writes are refused (exception 0x04) until a host
writes 1 to that coil.
"""

from __future__ import annotations

from typing import Final

from ..profile import DataType, DeviceProfile, EntityPlatform, EntitySpec, RegisterSpec, Table

WATCHDOG_ALARM: Final = RegisterSpec(
    key="watchdog_alarm",
    table=Table.COIL,
    address=0x1030,
    data_type=DataType.BOOL,
    writable=True,
    entity=EntitySpec(
        platform=EntityPlatform.BINARY_SENSOR,
        translation_key="io_watchdog_alarm",
        device_class="problem",
        entity_category="diagnostic",
    ),
)


def _profile(
    kind: str, model: str, *, outputs: int, output_name: str, inputs: int
) -> DeviceProfile:
    output_specs = tuple(
        RegisterSpec(
            key=f"{output_name}_{channel}",
            table=Table.COIL,
            address=channel,
            data_type=DataType.BOOL,
            writable=True,
            verify_write=True,
            entity=EntitySpec(
                platform=EntityPlatform.SWITCH,
                translation_key=f"io_{output_name}",
                translation_placeholders={"channel": str(channel)},
                relay=True,
            ),
        )
        for channel in range(outputs)
    )
    input_specs = tuple(
        RegisterSpec(
            key=f"input_{channel}",
            table=Table.DISCRETE_INPUT,
            address=channel,
            data_type=DataType.BOOL,
            entity=EntitySpec(
                platform=EntityPlatform.BINARY_SENSOR,
                translation_key="io_input",
                translation_placeholders={"channel": str(channel)},
            ),
        )
        for channel in range(inputs)
    )
    # Reading the last channel of each kind tells the models apart (the others refuse it).
    identify = (output_specs[-1].key,) + ((input_specs[-1].key,) if input_specs else ())
    return DeviceProfile(
        kind=kind,
        manufacturer="Moxa",
        model=model,
        name="Relays cabinet {n}",
        web_page=True,
        poll_interval=1.0,
        identify_keys=identify,
        registers=(*output_specs, *input_specs, WATCHDOG_ALARM),
        host_watchdog=True,
        watchdog_alarm=WATCHDOG_ALARM.key,
    )


E1211: Final = _profile("moxa_e1211", "ioLogik E1211", outputs=16, output_name="output", inputs=0)
E1212: Final = _profile("moxa_e1212", "ioLogik E1212", outputs=8, output_name="output", inputs=16)
E1214: Final = _profile("moxa_e1214", "ioLogik E1214", outputs=6, output_name="relay", inputs=6)
