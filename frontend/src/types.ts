/**
 * The parts of Home Assistant's frontend `hass` object the card reads.
 *
 * Home Assistant does not publish these types as a package; only the fields used here are declared.
 */

export interface HassEntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown> & {
    unit_of_measurement?: string;
    friendly_name?: string;
  };
  last_changed: string;
  last_updated: string;
}

/** An entry of `hass.entities` (the entity registry as the frontend sees it). */
export interface HassEntityRegistryEntry {
  entity_id: string;
  platform: string;
  device_id?: string | null;
  translation_key?: string | null;
  name?: string | null;
  hidden?: boolean;
}

/** An entry of `hass.devices`. */
export interface HassDevice {
  id: string;
  /** Home Assistant 2026.8 and later. */
  config_entry_id?: string;
  /** Before Home Assistant 2026.8 (a device could belong to several entries). */
  config_entries?: string[];
  name?: string | null;
  name_by_user?: string | null;
}

export interface HassConfigEntry {
  entry_id: string;
  domain: string;
  title: string;
  state: string;
}

export interface HomeAssistant {
  states: Record<string, HassEntityState>;
  entities: Record<string, HassEntityRegistryEntry>;
  devices: Record<string, HassDevice>;
  language?: string;
  locale?: { language: string };
  themes?: { darkMode?: boolean };
  formatEntityState?: (stateObj: HassEntityState, state?: string) => string;
  callWS<T>(message: Record<string, unknown>): Promise<T>;
  callService?(domain: string, service: string, data?: Record<string, unknown>): Promise<unknown>;
}

/** The card's YAML configuration. */
export interface GridEmsCardConfig {
  type: string;
  title?: string;
  /** Config entries of Grid EMS to show; empty or missing: every Grid EMS entry. */
  entries?: string[];
}
