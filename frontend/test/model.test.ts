import { describe, expect, it } from "vitest";

import { buildSiteView, changed, selectEntities } from "../src/model";
import { BESS_ENTRY, LINK_ENTRY, P1_ENTRY, fakeHass, siteEntities, withStates } from "./fake-hass";

const CONFIG = { type: "custom:grid-ems-card" };

describe("selectEntities", () => {
  it("takes every Grid EMS entity when no entry is chosen, and no other platform", () => {
    const hass = fakeHass([
      ...siteEntities(),
      { entityId: "sensor.other", key: "p1_power_import", state: "1", platform: "dsmr" },
    ]);
    const ids = selectEntities(hass, CONFIG).map((entity) => entity.entity_id);
    expect(ids).toHaveLength(siteEntities().length);
    expect(ids).not.toContain("sensor.other");
  });

  it("keeps only the chosen config entries, through the entity's device", () => {
    const hass = fakeHass(siteEntities());
    const ids = selectEntities(hass, { ...CONFIG, entries: [P1_ENTRY, BESS_ENTRY] }).map((e) => e.entity_id);
    expect(ids).toEqual(["sensor.bess_power", "sensor.bess_soe", "sensor.p1_power_export", "sensor.p1_power_import"]);
  });

  it("reads a device's entry from config_entries on Home Assistant before 2026.8", () => {
    const hass = fakeHass(siteEntities());
    for (const device of Object.values(hass.devices ?? {})) {
      device.config_entries = device.config_entry_id ? [device.config_entry_id] : [];
      delete device.config_entry_id;
    }
    const ids = selectEntities(hass, { ...CONFIG, entries: [P1_ENTRY, BESS_ENTRY] }).map((e) => e.entity_id);
    expect(ids).toEqual(["sensor.bess_power", "sensor.bess_soe", "sensor.p1_power_export", "sensor.p1_power_import"]);
  });
});

describe("buildSiteView", () => {
  it("maps translation keys to roles and computes the connection point", () => {
    const view = buildSiteView(fakeHass(siteEntities()), CONFIG);
    expect(view.readings.emergency_stop_production?.entityId).toBe("binary_sensor.link_stop_production");
    expect(view.readings.q_band_min_pct?.value).toBe(-20);
    // P1 import 3200 W, export 0 W: 3.2 kW imported, 16 % of the 20 kW import capacity.
    expect(view.gridPowerKw).toBeCloseTo(3.2);
    expect(view.gridPowerPct).toBeCloseTo(16);
    // MINSETP 40 % of the 10 kW export capacity, MAXSETP 50 % of 20 kW import capacity.
    expect(view.injectionLimitKw).toBeCloseTo(4);
    expect(view.consumptionLimitKw).toBeCloseTo(10);
    expect(view.reasonP).toBe("congestion");
    expect(view.reasonQ).toBe("normal");
    // Relays by module, named without the module's name, in channel order.
    expect(view.relayModules.map((module) => module.name)).toEqual(["E1214"]);
    expect(view.relayModules[0].relays.map((relay) => relay.name)).toEqual(["Relay 2", "Relay 10"]);
    expect(view.categories.map((c) => [c.category, c.reading.value])).toEqual([
      ["solar", 4.5],
      ["storage", -1.25],
    ]);
  });

  it("reads the reason states and treats export as a share of the export capacity", () => {
    const hass = withStates(fakeHass(siteEntities()), {
      "sensor.link_reason_p": "test",
      "sensor.p1_power_import": "0",
      "sensor.p1_power_export": "5000",
    });
    const view = buildSiteView(hass, CONFIG);
    expect(view.reasonP).toBe("test");
    expect(view.gridPowerKw).toBeCloseTo(-5);
    expect(view.gridPowerPct).toBeCloseTo(50);
  });

  it("has no grid power when a P1 power is unavailable, nor one without a meter", () => {
    const hass = withStates(fakeHass(siteEntities()), { "sensor.p1_power_export": "unavailable" });
    expect(buildSiteView(hass, CONFIG).gridPowerKw).toBeNull();
    const linkOnly = buildSiteView(hass, { ...CONFIG, entries: [LINK_ENTRY] });
    expect(linkOnly.hasGridPower).toBe(false);
    expect(linkOnly.injectionLimitKw).toBeCloseTo(4);
  });

  it("remembers the capacity learnt from the limits while an emergency stop holds them at 0", () => {
    const hass = fakeHass(siteEntities());
    const stopped = withStates(hass, {
      "binary_sensor.link_stop_consumption": "on",
      "sensor.link_max_consumption": "0",
    });
    expect(buildSiteView(stopped, CONFIG).gridPowerPct).toBeNull();
    const capacities = {};
    expect(buildSiteView(hass, CONFIG, capacities).gridPowerPct).toBeCloseTo(16);
    const view = buildSiteView(stopped, CONFIG, capacities);
    expect(view.consumptionLimitKw).toBe(0);
    expect(view.gridPowerPct).toBeCloseTo(16);
  });
});

describe("changed", () => {
  it("re-renders only when an entity the card shows changes", () => {
    const hass = fakeHass([...siteEntities(), { entityId: "sensor.unrelated", key: "x", state: "1", platform: "demo" }]);
    const view = buildSiteView(hass, CONFIG);
    expect(changed(view, hass, withStates(hass, { "sensor.unrelated": "2" }))).toBe(false);
    expect(changed(view, hass, withStates(hass, { "sensor.bess_soe": "77" }))).toBe(true);
    expect(changed(undefined, hass, hass)).toBe(true);
  });
});

describe("grid power sources", () => {
  it("prefers the P1 meter's net power over import and export", () => {
    const hass = fakeHass([
      ...siteEntities(),
      { entityId: "sensor.p1_net_power", key: "p1_net_power", state: "-1500", unit: "W", device: "p1" },
    ]);
    const view = buildSiteView(hass, CONFIG);
    expect(view.readings.grid_power?.entityId).toBe("sensor.p1_net_power");
    expect(view.gridPowerKw).toBeCloseTo(-1.5);
    // 1.5 kW exported of the 10 kW export capacity.
    expect(view.gridPowerPct).toBeCloseTo(15);
  });
});
