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
  | "import_capacity_kw"
  | "export_capacity_kw"
  | "q_band_min_pct"
  | "q_band_max_pct"
  | "reason_p"
  | "reason_q"
  | "q_mode"
  | "grid_power"
  | "grid_power_import"
  | "grid_power_export"
  | "bess_soe"
  | "bess_power";

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
  { role: "link_connected", domains: ["binary_sensor"], keys: ["rtu_connected", "link_connected"] },
  { role: "last_command", domains: ["sensor"], keys: ["last_command"] },
  { role: "emergency_stop_production", domains: ["binary_sensor"], keys: ["emergency_stop_production"] },
  { role: "emergency_stop_consumption", domains: ["binary_sensor"], keys: ["emergency_stop_consumption"] },
  { role: "test_mode", domains: ["binary_sensor"], keys: ["test_mode", "test"] },
  { role: "injection_limit_pct", domains: ["sensor"], keys: ["min_set_p", "injection_limit"] },
  { role: "consumption_limit_pct", domains: ["sensor"], keys: ["max_set_p", "consumption_limit"] },
  { role: "asset_production_limit_pct", domains: ["sensor"], keys: ["max_set_ap", "asset_production_limit"] },
  { role: "asset_consumption_limit_pct", domains: ["sensor"], keys: ["min_set_ap", "asset_consumption_limit"] },
  { role: "injection_limit_kw", domains: ["sensor"], keys: ["injection_limit_power"] },
  { role: "consumption_limit_kw", domains: ["sensor"], keys: ["consumption_limit_power"] },
  { role: "import_capacity_kw", domains: ["sensor"], keys: ["import_capacity"] },
  { role: "export_capacity_kw", domains: ["sensor"], keys: ["export_capacity"] },
  { role: "q_band_min_pct", domains: ["sensor"], keys: ["min_set_q", "q_band_min"] },
  { role: "q_band_max_pct", domains: ["sensor"], keys: ["max_set_q", "q_band_max"] },
  { role: "reason_p", domains: ["sensor"], keys: ["reason_p"] },
  { role: "reason_q", domains: ["sensor"], keys: ["reason_q"] },
  { role: "q_mode", domains: ["sensor", "binary_sensor"], keys: ["q_mode", "q_control_mode"] },
  { role: "grid_power", domains: ["sensor"], keys: ["connection_point_power", "grid_power"] },
  // --- P1 meter (p1_meter.py) ---
  { role: "grid_power_import", domains: ["sensor"], keys: ["power_delivered", "power_consumption"] },
  { role: "grid_power_export", domains: ["sensor"], keys: ["power_returned", "power_production"] },
  // --- Modbus devices (modbus_device.py): grid meter and BESS ---
  { role: "grid_power", domains: ["sensor"], keys: ["active_power", "power"] },
  { role: "bess_soe", domains: ["sensor"], keys: ["state_of_energy"] },
  { role: "bess_power", domains: ["sensor"], keys: ["bess_power", "battery_power", "target_power"] },
];

/** Roles with many entities (Moxa relay modules). */
export const LIST_ROLES: readonly RoleSpec<ListRole>[] = [
  { role: "relay", domains: ["switch"], keys: [/^relay(_\d+)?$/, /^digital_output(_\d+)?$/] },
];

/** P per asset category, reported by the link (points 13001..13007). */
export const CATEGORY_POWER_KEYS: Readonly<Record<Category, readonly KeyPattern[]>> = {
  solar: ["p_solar", "power_solar"],
  wind: ["p_wind", "power_wind"],
  chp: ["p_chp", "power_chp"],
  storage: ["p_storage", "power_storage"],
  ev: ["p_ev", "power_ev"],
  flexible_consumption: ["p_flexible_consumption", "power_flexible_consumption"],
  other_production: ["p_other_production", "power_other_production"],
};

/** State values of the reason sensors (REDENP/REDENQ), as the integration names them. */
export const REASON_STATES: Readonly<Record<string, "normal" | "congestion" | "test">> = {
  normal: "normal",
  congestion: "congestion",
  test: "test",
  "0": "normal",
  "1": "congestion",
  "99": "test",
};

export function keyMatches(patterns: readonly KeyPattern[], key: string): boolean {
  return patterns.some((pattern) => (typeof pattern === "string" ? pattern === key : pattern.test(key)));
}

export function specMatches<R>(spec: RoleSpec<R>, domain: string, key: string): boolean {
  return spec.domains.includes(domain) && keyMatches(spec.keys, key);
}
