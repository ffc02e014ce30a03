"""PowerPack BESS: the seed's register map, with the encodings Grid EMS assumes for it.

All values are holding registers (function 0x03, written with 0x06), one word each. The seed gives
the addresses only; the encodings below are assumptions, which the installer confirms or changes in
the device's options (a code outside the map shows as unknown):

- 2000 status, uint16: 0 off, 1 standby, 2 ready, 3 running, 4 fault. The status moves from
  "ready" to "running" once power flows, so writes never depend on "ready".
- 2008 target power, int16 kW: positive discharges, negative charges. The device follows it only
  while its command source is remote (the EMS); the range is 50 kW per available block.
- 2010 command source, uint16: 0 local, 1 remote (EMS).
- 2012 actual power, int16 kW, same sign as the target: our addition to the seed's map, so
  optional (probed at setup; polled and shown only where the unit answers it).
- 2026 state of energy, uint16 %.
- 2028 available blocks, uint16: inverter blocks in service, 50 kW each (the seed's 50-250 kW).
"""

from __future__ import annotations

from typing import Final

from ..profile import DataType, DeviceProfile, EntityPlatform, EntitySpec, RegisterSpec, Table

BLOCK_POWER_KW: Final = 50.0
MAX_BLOCKS: Final = 5

PROFILE: Final = DeviceProfile(
    kind="powerpack_bess",
    manufacturer="PowerPack",
    model="PowerPack BESS",
    poll_interval=1.0,
    identify_keys=("status", "state_of_energy", "available_blocks"),
    # Between the status and the target power: nothing there in the manufacturer's map.
    hole_address=2001,
    registers=(
        RegisterSpec(
            key="status",
            table=Table.HOLDING_REGISTER,
            address=2000,
            options={0: "off", 1: "standby", 2: "ready", 3: "running", 4: "fault"},
            entity=EntitySpec(
                platform=EntityPlatform.SENSOR, translation_key="bess_status", device_class="enum"
            ),
        ),
        RegisterSpec(
            key="target_power",
            table=Table.HOLDING_REGISTER,
            address=2008,
            data_type=DataType.INT16,
            unit="kW",
            writable=True,
            verify_write=True,
            entity=EntitySpec(
                platform=EntityPlatform.NUMBER,
                translation_key="bess_target_power",
                device_class="power",
                min_value=-BLOCK_POWER_KW * MAX_BLOCKS,
                max_value=BLOCK_POWER_KW * MAX_BLOCKS,
                step=1,
                limit_key="available_blocks",
                limit_factor=BLOCK_POWER_KW,
            ),
        ),
        RegisterSpec(
            key="command_source",
            table=Table.HOLDING_REGISTER,
            address=2010,
            options={0: "local", 1: "remote"},
            writable=True,
            verify_write=True,
            entity=EntitySpec(
                platform=EntityPlatform.SELECT,
                translation_key="bess_command_source",
                entity_category="config",
            ),
        ),
        RegisterSpec(
            key="active_power",
            table=Table.HOLDING_REGISTER,
            address=2012,
            data_type=DataType.INT16,
            unit="kW",
            optional=True,
            entity=EntitySpec(
                platform=EntityPlatform.SENSOR,
                translation_key="bess_active_power",
                device_class="power",
                state_class="measurement",
                precision=0,
            ),
        ),
        RegisterSpec(
            key="state_of_energy",
            table=Table.HOLDING_REGISTER,
            address=2026,
            unit="%",
            plausible=(0, 100),
            entity=EntitySpec(
                platform=EntityPlatform.SENSOR,
                translation_key="bess_state_of_energy",
                device_class="battery",
                state_class="measurement",
                precision=0,
            ),
        ),
        RegisterSpec(
            key="available_blocks",
            table=Table.HOLDING_REGISTER,
            address=2028,
            plausible=(0, 64),
            entity=EntitySpec(
                platform=EntityPlatform.SENSOR,
                translation_key="bess_available_blocks",
                state_class="measurement",
                precision=0,
            ),
        ),
    ),
)
