/** A fake `hass` object: just the registry, device and state maps the card reads. */

import type { HassConfigEntry, HassEntityState, HomeAssistant } from "../src/types";

export interface FakeEntity {
  entityId: string;
  key: string;
  state: string;
  unit?: string;
  name?: string;
  device?: string;
  platform?: string;
  attributes?: Record<string, unknown>;
}

export const LINK_ENTRY = "entry-link";
export const P1_ENTRY = "entry-p1";
export const BESS_ENTRY = "entry-bess";
export const RELAY_ENTRY = "entry-relays";

const DEVICE_ENTRY: Record<string, string> = {
  link: LINK_ENTRY,
  p1: P1_ENTRY,
  bess: BESS_ENTRY,
  relays: RELAY_ENTRY,
};

export function fakeHass(entities: FakeEntity[], language = "en", configEntries: HassConfigEntry[] = []): HomeAssistant {
  const states: Record<string, HassEntityState> = {};
  const registry: HomeAssistant["entities"] = {};
  for (const entity of entities) {
    const device = entity.device ?? "link";
    registry[entity.entityId] = {
      entity_id: entity.entityId,
      platform: entity.platform ?? "grid_ems",
      device_id: device,
      translation_key: entity.key,
    };
    states[entity.entityId] = {
      entity_id: entity.entityId,
      state: entity.state,
      attributes: {
        friendly_name: entity.name ?? entity.entityId,
        ...(entity.unit ? { unit_of_measurement: entity.unit } : {}),
        ...entity.attributes,
      },
      last_changed: "2025-04-11T00:00:00Z",
      last_updated: "2025-04-11T00:00:00Z",
    };
  }
  const devices: HomeAssistant["devices"] = {};
  for (const [id, entry] of Object.entries(DEVICE_ENTRY)) devices[id] = { id, config_entry_id: entry, name: id };
  devices.relays.name = "E1214";
  return {
    states,
    entities: registry,
    devices,
    language,
    locale: { language },
    callWS: async <T,>() => configEntries as T,
  };
}

/** A copy of `hass` with some states replaced, as HA hands the card a new object on each change. */
export function withStates(hass: HomeAssistant, changes: Record<string, string>): HomeAssistant {
  const states = { ...hass.states };
  for (const [entityId, state] of Object.entries(changes)) {
    states[entityId] = { ...states[entityId], state, last_updated: "2025-04-11T00:00:01Z" };
  }
  return { ...hass, states };
}

/** A demo-like site: link with limits, P1 meter, BESS and two relays. */
export function siteEntities(): FakeEntity[] {
  return [
    { entityId: "binary_sensor.link_rtu", key: "rtu_connected", state: "on" },
    {
      entityId: "event.link_dso_command",
      key: "dso_command",
      state: "2025-04-11T10:15:00.000+00:00",
      attributes: { event_type: "command_accepted", command: "max_set_p", value: 50.0 },
    },
    { entityId: "binary_sensor.link_stop_production", key: "emergency_stop_production", state: "off" },
    { entityId: "binary_sensor.link_stop_consumption", key: "emergency_stop_consumption", state: "off" },
    { entityId: "binary_sensor.link_test", key: "test_mode", state: "off" },
    { entityId: "sensor.link_minsetp", key: "min_set_p", state: "40", unit: "%" },
    { entityId: "sensor.link_maxsetp", key: "max_set_p", state: "50", unit: "%" },
    // 40 % of a 10 kW export capacity, 50 % of a 20 kW import capacity.
    { entityId: "sensor.link_max_injection", key: "max_injection", state: "4", unit: "kW" },
    { entityId: "sensor.link_max_consumption", key: "max_consumption", state: "10", unit: "kW" },
    { entityId: "sensor.link_minsetq", key: "min_set_q", state: "-20", unit: "%" },
    { entityId: "sensor.link_maxsetq", key: "max_set_q", state: "30", unit: "%" },
    { entityId: "sensor.link_reason_p", key: "reason_p", state: "grid_congestion" },
    { entityId: "sensor.link_reason_q", key: "reason_q", state: "normal_operation" },
    { entityId: "sensor.link_q_mode", key: "q_mode", state: "local" },
    { entityId: "sensor.link_p_solar", key: "active_power_solar", state: "4.5", unit: "kW" },
    { entityId: "sensor.link_p_storage", key: "active_power_storage", state: "-1.25", unit: "kW" },
    { entityId: "sensor.p1_power_import", key: "p1_power_import", state: "3200", unit: "W", device: "p1" },
    { entityId: "sensor.p1_power_export", key: "p1_power_export", state: "0", unit: "W", device: "p1" },
    { entityId: "sensor.bess_soe", key: "bess_state_of_energy", state: "76", unit: "%", device: "bess" },
    { entityId: "sensor.bess_power", key: "bess_active_power", state: "-1.25", unit: "kW", device: "bess" },
    { entityId: "switch.e1214_relay_10", key: "io_relay", state: "on", name: "E1214 Relay 10", device: "relays" },
    { entityId: "switch.e1214_relay_2", key: "io_relay", state: "off", name: "E1214 Relay 2", device: "relays" },
  ];
}
