/** Visual editor of the card: a title and the Grid EMS config entries it shows. */

import { LitElement, type TemplateResult, css, html, nothing } from "lit";

import { localizer } from "./localize";
import { PLATFORM } from "./model";
import type { GridEmsCardConfig, HassConfigEntry, HomeAssistant } from "./types";

export class GridEmsCardEditor extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _entries: { state: true },
  };

  declare hass?: HomeAssistant;
  declare _config?: GridEmsCardConfig;
  declare _entries?: HassConfigEntry[];
  private _loading = false;

  setConfig(config: GridEmsCardConfig): void {
    this._config = config;
  }

  protected willUpdate(): void {
    if (this.hass && this._entries === undefined && !this._loading) {
      this._loading = true;
      this.hass
        .callWS<HassConfigEntry[]>({ type: "config_entries/get", domain: PLATFORM })
        .then((entries) => {
          this._entries = entries;
        })
        .catch(() => {
          this._entries = [];
        });
    }
  }

  protected render(): TemplateResult | typeof nothing {
    if (!this.hass || !this._config) return nothing;
    const t = localizer(this.hass.locale?.language ?? this.hass.language);
    const chosen = new Set(this._config.entries ?? []);
    return html`
      <label class="field">
        <span>${t("editor_title")}</span>
        <input
          type="text"
          name="title"
          .value=${this._config.title ?? ""}
          placeholder=${t("title")}
          @change=${(event: Event) => this._setTitle((event.target as HTMLInputElement).value)}
        />
      </label>
      <fieldset>
        <legend>${t("editor_entries")}</legend>
        ${this._entries?.length === 0 ? html`<p>${t("editor_no_entries")}</p>` : nothing}
        ${(this._entries ?? []).map(
          (entry) => html`<label class="entry">
            <input
              type="checkbox"
              name="entry"
              .value=${entry.entry_id}
              .checked=${chosen.has(entry.entry_id)}
              @change=${(event: Event) => this._toggle(entry.entry_id, (event.target as HTMLInputElement).checked)}
            />
            ${entry.title}
          </label>`,
        )}
      </fieldset>
    `;
  }

  private _setTitle(title: string): void {
    const config: GridEmsCardConfig = { ...(this._config as GridEmsCardConfig) };
    if (title) config.title = title;
    else delete config.title;
    this._emit(config);
  }

  private _toggle(entryId: string, checked: boolean): void {
    const entries = new Set(this._config?.entries ?? []);
    if (checked) entries.add(entryId);
    else entries.delete(entryId);
    // Keep the order of the entries as Home Assistant lists them.
    const ordered = (this._entries ?? []).map((entry) => entry.entry_id).filter((id) => entries.has(id));
    this._emit({ ...(this._config as GridEmsCardConfig), entries: ordered });
  }

  private _emit(config: GridEmsCardConfig): void {
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  static styles = css`
    :host {
      display: block;
      color: var(--primary-text-color);
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 4px;
      margin-bottom: 12px;
    }
    input[type="text"] {
      padding: 8px;
      font: inherit;
      color: var(--primary-text-color);
      background: var(--card-background-color, transparent);
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
    }
    fieldset {
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
    }
    .entry {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 4px 0;
    }
  `;
}
