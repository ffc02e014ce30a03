/**
 * THE mapping from Grid EMS entities to what the card shows: one place to edit when a translation
 * key of the integration changes.
 *
 * The card never uses entity ids: it takes the entities of the chosen config entries from
 * `hass.entities` (platform "grid_ems") and gives each a role from its domain and translation key.
 */

/** Roles filled by at most one entity each. */
export type SingleRole =
  | "link_connected"
  | "last_command"
  | "emergency_stop_production"
  | "emergency_stop_consumption"
  | "test_mode"
  | "injection_limit_pct"
  | "consumption_limit_pct"
  | "asset_production_limit_pct"
  | "asset_consumption_limit_pct"
  | "injection_limit_kw"
  | "consumption_limit_kw"
  | "q_band_min_pct"
  | "q_band_max_pct"
  | "reason_p"
  | "reason_q"
  | "q_mode"
  | "commissioning"
  | "commissioning_start"
  | "commissioning_abort"
  | "grid_power"
  | "grid_power_import"
  | "grid_power_export"
  | "bess_soe"
  | "bess_power"
  | "battery_plan";

/** Roles filled by any number of entities. */
export type ListRole = "relay";

/** The Netflex asset categories (13001..13007), in the order of the data model. */
export const CATEGORIES = [
  "solar",
  "wind",
  "chp",
  "storage",
  "ev",
  "flexible_consumption",
  "other_production",
] as const;
export type Category = (typeof CATEGORIES)[number];

type KeyPattern = string | RegExp;

interface RoleSpec<R> {
  role: R;
  /** Entity domains (the part of the entity id before the dot) the role accepts. */
  domains: readonly string[];
  /** Translation keys of the integration, exact strings or patterns. */
  keys: readonly KeyPattern[];
}

/** Single roles; when several entities match one role, the first spec line that matches wins. */
export const SINGLE_ROLES: readonly RoleSpec<SingleRole>[] = [
  // --- Grid operator link (grid_link.py) ---
  { role: "link_connected", domains: ["binary_sensor"], keys: ["rtu_connected"] },
  { role: "last_command", domains: ["event"], keys: ["dso_command"] },
  { role: "emergency_stop_production", domains: ["binary_sensor"], keys: ["emergency_stop_production"] },
  { role: "emergency_stop_consumption", domains: ["binary_sensor"], keys: ["emergency_stop_consumption"] },
  { role: "test_mode", domains: ["binary_sensor"], keys: ["test_mode"] },
  { role: "injection_limit_pct", domains: ["sensor"], keys: ["min_set_p"] },
  { role: "consumption_limit_pct", domains: ["sensor"], keys: ["max_set_p"] },
  { role: "asset_production_limit_pct", domains: ["sensor"], keys: ["max_set_ap"] },
  { role: "asset_consumption_limit_pct", domains: ["sensor"], keys: ["min_set_ap"] },
  { role: "injection_limit_kw", domains: ["sensor"], keys: ["max_injection"] },
  { role: "consumption_limit_kw", domains: ["sensor"], keys: ["max_consumption"] },
  { role: "q_band_min_pct", domains: ["sensor"], keys: ["min_set_q"] },
  { role: "q_band_max_pct", domains: ["sensor"], keys: ["max_set_q"] },
  { role: "reason_p", domains: ["sensor"], keys: ["reason_p"] },
  { role: "reason_q", domains: ["sensor"], keys: ["reason_q"] },
  { role: "q_mode", domains: ["sensor"], keys: ["q_mode"] },
  { role: "commissioning", domains: ["sensor"], keys: ["commissioning"] },
  { role: "commissioning_start", domains: ["button"], keys: ["start_commissioning"] },
  { role: "commissioning_abort", domains: ["button"], keys: ["abort_commissioning"] },
  // --- P1 meter (p1_meter.py): net power, or import and export when the meter has no net ---
  { role: "grid_power", domains: ["sensor"], keys: ["p1_net_power"] },
  { role: "grid_power_import", domains: ["sensor"], keys: ["p1_power_import"] },
  { role: "grid_power_export", domains: ["sensor"], keys: ["p1_power_export"] },
  // --- Modbus devices (modbus/profiles/): grid meter (Acuvim II) and battery (PowerPack) ---
  { role: "grid_power", domains: ["sensor"], keys: ["meter_power"] },
  { role: "bess_soe", domains: ["sensor"], keys: ["bess_state_of_energy"] },
  { role: "bess_power", domains: ["sensor"], keys: ["bess_active_power"] },
  // --- Planning (planning/sensor.py): the plan in the `forecast` attribute ---
  { role: "battery_plan", domains: ["sensor"], keys: ["planned_battery_power"] },
];

/** Roles with many entities: relays and digital outputs of the Moxa ioLogik modules. */
export const LIST_ROLES: readonly RoleSpec<ListRole>[] = [
  { role: "relay", domains: ["switch"], keys: ["io_relay", "io_output"] },
];

/** P per asset category, reported by the link (points 13001..13007). */
export const CATEGORY_POWER_KEYS: Readonly<Record<Category, readonly KeyPattern[]>> = {
  solar: ["active_power_solar"],
  wind: ["active_power_wind"],
  chp: ["active_power_chp"],
  storage: ["active_power_storage"],
  ev: ["active_power_ev"],
  flexible_consumption: ["active_power_flexible_consumption"],
  other_production: ["active_power_other_production"],
};

/**
 * How the card names the commands of the link's command event (attribute "command"): the Netflex
 * mnemonic of setpoints, the card's own text for the others.
 */
export const COMMAND_NAMES: Readonly<Record<string, string>> = {
  min_set_p: "MINSETP",
  max_set_p: "MAXSETP",
  max_set_ap: "MAXSETAP",
  min_set_ap: "MINSETAP",
  min_set_q: "MINSETQ",
  max_set_q: "MAXSETQ",
  reason_p: "REDENP",
  reason_q: "REDENQ",
};
/** Event type of a refused command. */
export const COMMAND_REFUSED = "command_refused";

/** States of the reason sensors (REDENP/REDENQ) as the integration names them. */
export const REASON_STATES: Readonly<Record<string, "normal" | "congestion" | "test">> = {
  normal_operation: "normal",
  grid_congestion: "congestion",
  test: "test",
};

export function keyMatches(patterns: readonly KeyPattern[], key: string): boolean {
  return patterns.some((pattern) => (typeof pattern === "string" ? pattern === key : pattern.test(key)));
}

export function specMatches<R>(spec: RoleSpec<R>, domain: string, key: string): boolean {
  return spec.domains.includes(domain) && keyMatches(spec.keys, key);
}
