/**
 * What the card shows, computed from `hass` and the card configuration: pure functions, no DOM.
 */

import {
  CATEGORIES,
  CATEGORY_POWER_KEYS,
  type Category,
  LIST_ROLES,
  type ListRole,
  REASON_STATES,
  SINGLE_ROLES,
  type SingleRole,
  keyMatches,
  specMatches,
} from "./roles";
import type { GridEmsCardConfig, HassDevice, HassEntityRegistryEntry, HassEntityState, HomeAssistant } from "./types";

export const PLATFORM = "grid_ems";
const UNAVAILABLE_STATES = new Set(["unavailable", "unknown"]);

/** One entity as the card reads it. */
export interface Reading {
  entityId: string;
  name: string;
  /** Raw state, "unavailable" when the entity has no state object. */
  state: string;
  available: boolean;
  /** Numeric state, powers converted to kW; null when not a number or unavailable. */
  value: number | null;
  stateObj?: HassEntityState;
}

/** The relays of one module, named without the module's name. */
export interface RelayModule {
  name: string;
  relays: Reading[];
}

export interface CategoryPower {
  category: Category;
  reading: Reading;
}

export type Reason = "normal" | "congestion" | "test" | "unknown";

/** One quarter hour of the battery plan: its start (ms since epoch), power (+ discharge), price. */
export interface PlanStep {
  start: number;
  powerKw: number;
  priceEurPerKwh: number | null;
}

/** The plan's steps from the planned battery power's `forecast` attribute; malformed ones skipped. */
export function planSteps(attributes: Record<string, unknown> | undefined): PlanStep[] {
  const forecast = attributes?.forecast;
  if (!Array.isArray(forecast)) return [];
  const steps: PlanStep[] = [];
  for (const item of forecast) {
    if (typeof item !== "object" || item === null) continue;
    const { start, power_kw: power, price_eur_per_kwh: price } = item as Record<string, unknown>;
    const time = typeof start === "string" ? Date.parse(start) : Number.NaN;
    if (!Number.isFinite(time) || typeof power !== "number" || !Number.isFinite(power)) continue;
    steps.push({
      start: time,
      powerKw: power,
      priceEurPerKwh: typeof price === "number" && Number.isFinite(price) ? price : null,
    });
  }
  return steps;
}

export interface SiteView {
  /** Entity ids the card depends on, to re-render only when one of them changes. */
  entityIds: string[];
  readings: Partial<Record<SingleRole, Reading>>;
  relayModules: RelayModule[];
  categories: CategoryPower[];
  /** Grid power at the connection point in kW, load convention (import positive). */
  gridPowerKw: number | null;
  /** Whether some grid power entity exists (unavailable or not). */
  hasGridPower: boolean;
  injectionLimitKw: number | null;
  consumptionLimitKw: number | null;
  /** Grid power as % of the contractual capacity in its direction. */
  gridPowerPct: number | null;
  reasonP: Reason | null;
  reasonQ: Reason | null;
  /** The battery plan's quarter hours (empty without a plan). */
  plan: PlanStep[];
}

/**
 * The config entry a device belongs to: `config_entry_id` since Home Assistant 2026.8 (one entry
 * per device); before, the first of `config_entries` (deprecated since, removed in 2027.8).
 */
export function deviceEntryId(device: HassDevice): string | undefined {
  return device.config_entry_id ?? device.config_entries?.[0];
}

/** Entities of Grid EMS in the chosen config entries (all Grid EMS entries when none chosen). */
export function selectEntities(hass: HomeAssistant, config: GridEmsCardConfig): HassEntityRegistryEntry[] {
  const chosen = new Set(config.entries ?? []);
  return Object.values(hass.entities ?? {})
    .filter((entity) => entity.platform === PLATFORM)
    .filter((entity) => {
      if (chosen.size === 0) return true;
      const device = entity.device_id ? hass.devices?.[entity.device_id] : undefined;
      const entryId = device ? deviceEntryId(device) : undefined;
      return entryId !== undefined && chosen.has(entryId);
    })
    .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
}

function powerFactorToKw(unit: unknown): number {
  switch (unit) {
    case "W":
      return 0.001;
    case "MW":
      return 1000;
    default:
      return 1;
  }
}

export function readEntity(hass: HomeAssistant, entityId: string): Reading {
  const stateObj = hass.states[entityId];
  if (!stateObj) {
    return { entityId, name: entityId, state: "unavailable", available: false, value: null };
  }
  const available = !UNAVAILABLE_STATES.has(stateObj.state);
  const number = available ? Number.parseFloat(stateObj.state) : Number.NaN;
  const value = Number.isFinite(number)
    ? number * powerFactorToKw(stateObj.attributes.unit_of_measurement)
    : null;
  const name = String(stateObj.attributes.friendly_name ?? entityId);
  return { entityId, name, state: stateObj.state, available, value, stateObj };
}

function domainOf(entityId: string): string {
  return entityId.split(".", 1)[0];
}

function reasonOf(reading: Reading | undefined): Reason | null {
  if (!reading) return null;
  if (!reading.available) return "unknown";
  return REASON_STATES[reading.state] ?? REASON_STATES[String(reading.value ?? "")] ?? "unknown";
}

/**
 * Contractual capacities, learnt from the link's limits: a limit in kW is its percentage of the
 * capacity, except while an emergency stop holds it at 0. Kept per card, so the share of capacity
 * stays known during a stop.
 */
export interface Capacities {
  importKw?: number;
  exportKw?: number;
}

function capacityFrom(kw: Reading | undefined, pct: Reading | undefined, stop: Reading | undefined): number | undefined {
  if (kw?.value == null || !pct?.value || !stop?.available || stop.state === "on") return undefined;
  return kw.value / (Math.abs(pct.value) / 100);
}

/** Compute everything the card shows; `capacities` is updated with what the limits tell. */
export function buildSiteView(hass: HomeAssistant, config: GridEmsCardConfig, capacities: Capacities = {}): SiteView {
  const entities = selectEntities(hass, config);
  const taken = new Set<string>();
  const readings: Partial<Record<SingleRole, Reading>> = {};

  for (const spec of SINGLE_ROLES) {
    if (readings[spec.role]) continue;
    const match = entities.find(
      (entity) =>
        !taken.has(entity.entity_id) &&
        specMatches(spec, domainOf(entity.entity_id), entity.translation_key ?? ""),
    );
    if (match) {
      taken.add(match.entity_id);
      readings[spec.role] = readEntity(hass, match.entity_id);
    }
  }

  const lists: Record<ListRole, HassEntityRegistryEntry[]> = { relay: [] };
  for (const spec of LIST_ROLES) {
    for (const entity of entities) {
      if (!taken.has(entity.entity_id) && specMatches(spec, domainOf(entity.entity_id), entity.translation_key ?? "")) {
        taken.add(entity.entity_id);
        lists[spec.role].push(entity);
      }
    }
  }

  const categories: CategoryPower[] = [];
  for (const category of CATEGORIES) {
    const entity = entities.find(
      (candidate) =>
        !taken.has(candidate.entity_id) &&
        domainOf(candidate.entity_id) === "sensor" &&
        keyMatches(CATEGORY_POWER_KEYS[category], candidate.translation_key ?? ""),
    );
    if (entity) {
      taken.add(entity.entity_id);
      categories.push({ category, reading: readEntity(hass, entity.entity_id) });
    }
  }

  const gridPowerKw = netGridPower(readings);
  capacities.exportKw =
    capacityFrom(readings.injection_limit_kw, readings.injection_limit_pct, readings.emergency_stop_production) ??
    capacities.exportKw;
  capacities.importKw =
    capacityFrom(readings.consumption_limit_kw, readings.consumption_limit_pct, readings.emergency_stop_consumption) ??
    capacities.importKw;
  const capacity = gridPowerKw != null && gridPowerKw < 0 ? capacities.exportKw : capacities.importKw;
  const gridPowerPct = gridPowerKw != null && capacity ? (Math.abs(gridPowerKw) / capacity) * 100 : null;

  return {
    entityIds: [...taken],
    readings,
    relayModules: relayModules(hass, lists.relay),
    categories,
    gridPowerKw,
    hasGridPower: Boolean(readings.grid_power ?? readings.grid_power_import ?? readings.grid_power_export),
    injectionLimitKw: readings.injection_limit_kw?.value ?? null,
    consumptionLimitKw: readings.consumption_limit_kw?.value ?? null,
    gridPowerPct,
    reasonP: reasonOf(readings.reason_p),
    reasonQ: reasonOf(readings.reason_q),
    plan: planSteps(readings.battery_plan?.stateObj?.attributes),
  };
}

/** Relays grouped by module (device), in channel order (relay 2 before relay 10). */
function relayModules(hass: HomeAssistant, relays: HassEntityRegistryEntry[]): RelayModule[] {
  const modules = new Map<string, RelayModule>();
  for (const entity of relays) {
    const device = entity.device_id ? hass.devices?.[entity.device_id] : undefined;
    const moduleName = device?.name_by_user ?? device?.name ?? "";
    const module = modules.get(entity.device_id ?? "") ?? { name: moduleName, relays: [] };
    modules.set(entity.device_id ?? "", module);
    const reading = readEntity(hass, entity.entity_id);
    if (moduleName && reading.name.startsWith(`${moduleName} `)) reading.name = reading.name.slice(moduleName.length + 1);
    module.relays.push(reading);
  }
  const byChannel = new Intl.Collator("en", { numeric: true });
  for (const module of modules.values()) module.relays.sort((a, b) => byChannel.compare(a.name, b.name));
  return [...modules.values()];
}

function netGridPower(readings: Partial<Record<SingleRole, Reading>>): number | null {
  if (readings.grid_power) return readings.grid_power.value;
  const imported = readings.grid_power_import?.value;
  const exported = readings.grid_power_export?.value;
  if (imported == null && exported == null) return null;
  if (!readings.grid_power_import?.available && readings.grid_power_import) return null;
  if (!readings.grid_power_export?.available && readings.grid_power_export) return null;
  return (imported ?? 0) - (exported ?? 0);
}

/** Whether a new `hass` changes anything the card shows. */
export function changed(view: SiteView | undefined, oldHass: HomeAssistant | undefined, hass: HomeAssistant): boolean {
  if (!view || !oldHass) return true;
  if (oldHass.entities !== hass.entities || oldHass.devices !== hass.devices) return true;
  if (oldHass.themes !== hass.themes || oldHass.language !== hass.language) return true;
  return view.entityIds.some((entityId) => oldHass.states[entityId] !== hass.states[entityId]);
}
