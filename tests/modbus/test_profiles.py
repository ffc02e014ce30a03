"""Profiles are consistent data, and the shipped ones batch into few reads."""

from __future__ import annotations

import dataclasses

import pytest

from custom_components.grid_ems.modbus.client import value_range
from custom_components.grid_ems.modbus.codec import plan_reads
from custom_components.grid_ems.modbus.profile import (
    DataType,
    DeviceProfile,
    EntityPlatform,
    EntitySpec,
    RegisterSpec,
    Table,
)
from custom_components.grid_ems.modbus.profiles import PROFILES

HOLDING = Table.HOLDING_REGISTER


def test_shipped_kinds() -> None:
    """The BESS, the meter and three Moxa modules are available by kind."""
    assert set(PROFILES) == {
        "powerpack_bess",
        "acuvim_ii",
        "moxa_e1211",
        "moxa_e1212",
        "moxa_e1214",
    }
    assert all(profile.kind == kind for kind, profile in PROFILES.items())


@pytest.mark.parametrize(
    ("kind", "reads"),
    [
        ("powerpack_bess", 1),
        ("acuvim_ii", 1),
        # Outputs, watchdog alarm (far from the outputs), inputs.
        ("moxa_e1211", 2),
        ("moxa_e1212", 3),
        ("moxa_e1214", 3),
    ],
)
def test_reads_per_poll(kind: str, reads: int) -> None:
    """Each shipped profile polls in at most two requests."""
    profile = PROFILES[kind]
    plan = plan_reads(
        profile.registers,
        max_registers=profile.max_read_registers,
        max_bits=profile.max_read_bits,
        max_gap=profile.max_gap,
    )
    assert len(plan) == reads


def test_every_register_has_an_entity_and_relays_are_outputs() -> None:
    """Each register of the shipped profiles becomes an entity; relay roles sit on switches."""
    for profile in PROFILES.values():
        for spec in profile.registers:
            assert spec.entity is not None, spec.key
            assert spec.entity.platform in EntityPlatform
        for relay in profile.relays:
            assert relay.table is Table.COIL
            assert relay.entity is not None
            assert relay.entity.platform is EntityPlatform.SWITCH
    assert len(PROFILES["moxa_e1214"].relays) == 6
    assert PROFILES["moxa_e1214"].host_watchdog
    assert not PROFILES["acuvim_ii"].relays


def test_register_lookup_and_managed_spans() -> None:
    """A raw access is recognised as touching profile registers, including 32-bit halves."""
    meter = PROFILES["acuvim_ii"]
    assert meter.register("frequency").address == 0x4000
    with pytest.raises(KeyError):
        meter.register("nonexistent")
    assert [s.key for s in meter.manages(HOLDING, 0x4001, 1)] == ["frequency"]
    assert meter.manages(HOLDING, 0x4008, 2) == ()
    assert meter.manages(Table.INPUT_REGISTER, 0x4000, 2) == ()


def test_bess_power_range_follows_available_blocks() -> None:
    """The target power range is 50 kW per available block, within the static bounds."""
    target = PROFILES["powerpack_bess"].register("target_power")
    assert value_range(target, {}) == (-250.0, 250.0)
    assert value_range(target, {"available_blocks": 2}) == (-100.0, 100.0)
    assert value_range(target, {"available_blocks": 9}) == (-250.0, 250.0)
    assert value_range(target, {"available_blocks": None}) == (-250.0, 250.0)
    status = PROFILES["powerpack_bess"].register("status")
    assert value_range(status, {}) == (float("-inf"), float("inf"))


def test_enum_option_lookup() -> None:
    """Option keys map back to raw values."""
    source = PROFILES["powerpack_bess"].register("command_source")
    assert source.raw_for_option("remote") == 1
    with pytest.raises(KeyError):
        source.raw_for_option("elsewhere")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": Table.COIL, "data_type": DataType.UINT16}, "bit tables"),
        ({"table": HOLDING, "data_type": DataType.BOOL}, "bit tables"),
        ({"table": Table.INPUT_REGISTER, "writable": True}, "cannot be written"),
        ({"table": HOLDING, "address": 0xFFFF, "data_type": DataType.UINT32}, "out of range"),
        ({"table": HOLDING, "scale": 0}, "scale"),
    ],
)
def test_impossible_register_specs_are_refused(kwargs: dict[str, object], message: str) -> None:
    """A spec no device could have fails when the profile is built."""
    arguments: dict[str, object] = {"key": "bad", "address": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        RegisterSpec(**arguments)  # type: ignore[arg-type]


def _profile(*registers: RegisterSpec, identify: tuple[str, ...] = ()) -> DeviceProfile:
    return DeviceProfile(
        kind="test",
        manufacturer="Test",
        model="Test",
        registers=registers,
        identify_keys=identify,
        poll_interval=1,
    )


def test_inconsistent_profiles_are_refused() -> None:
    """Duplicate keys, overlapping values and unknown references fail at import time."""
    one = RegisterSpec(key="a", table=HOLDING, address=0, data_type=DataType.UINT32)
    with pytest.raises(ValueError, match="duplicate"):
        _profile(one, one)
    with pytest.raises(ValueError, match="overlaps"):
        _profile(one, RegisterSpec(key="b", table=HOLDING, address=1))
    with pytest.raises(ValueError, match="identify"):
        _profile(one, identify=("missing",))
    limited = RegisterSpec(
        key="b",
        table=HOLDING,
        address=5,
        entity=EntitySpec(platform=EntityPlatform.NUMBER, translation_key="x", limit_key="missing"),
    )
    with pytest.raises(ValueError, match="limit key"):
        _profile(one, limited)
    # Same address in different tables is fine.
    assert _profile(one, RegisterSpec(key="c", table=Table.INPUT_REGISTER, address=0))
    optional = RegisterSpec(key="o", table=HOLDING, address=9, optional=True)
    with pytest.raises(ValueError, match="optional identify"):
        _profile(one, optional, identify=("o",))
    with pytest.raises(ValueError, match="watchdog alarm"):
        dataclasses.replace(_profile(one), watchdog_alarm="a")  # not a writable coil
