/** The Grid EMS Lovelace card: the site at the connection point, as the grid operator sees it. */

import { LitElement, type PropertyValues, type TemplateResult, css, html, nothing, svg } from "lit";

import { type Localize, type TextKey, localizer } from "./localize";
import { type Capacities, type Reading, type SiteView, buildSiteView, changed } from "./model";
import { COMMAND_NAMES, COMMAND_REFUSED } from "./roles";
import type { GridEmsCardConfig, HomeAssistant } from "./types";

export const CARD_TYPE = "grid-ems-card";
export const EDITOR_TYPE = "grid-ems-card-editor";

export class GridEmsCard extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _confirmingRun: { state: true },
    _runError: { state: true },
  };

  declare hass?: HomeAssistant;
  declare _config?: GridEmsCardConfig;
  /** The start of a commissioning run was asked for and waits for its confirmation. */
  declare _confirmingRun: boolean;
  /** Why Home Assistant refused the last start or abort of a run. */
  declare _runError?: string;
  private _view?: SiteView;
  private _capacities: Capacities = {};

  constructor() {
    super();
    this._confirmingRun = false;
  }

  static getConfigElement(): HTMLElement {
    return document.createElement(EDITOR_TYPE);
  }

  static getStubConfig(): Partial<GridEmsCardConfig> {
    return { entries: [] };
  }

  setConfig(config: GridEmsCardConfig): void {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.entries !== undefined && !Array.isArray(config.entries)) {
      throw new Error("'entries' must be a list of config entry ids");
    }
    this._config = config;
    this._capacities = {};
  }

  getCardSize(): number {
    return 8;
  }

  protected shouldUpdate(changedProperties: PropertyValues<this>): boolean {
    if (changedProperties.has("_config") || !this._view) return true;
    // The card's own state (a confirmation asked for) renders, whatever `hass` did meanwhile.
    if ([...changedProperties.keys()].some((key) => key !== "hass")) return true;
    if (!changedProperties.has("hass") || !this.hass) return false;
    return changed(this._view, changedProperties.get("hass") as HomeAssistant | undefined, this.hass);
  }

  protected render(): TemplateResult | typeof nothing {
    if (!this.hass || !this._config) return nothing;
    const view = buildSiteView(this.hass, this._config, this._capacities);
    this._view = view;
    const t = localizer(this.hass.locale?.language ?? this.hass.language);
    const empty = view.entityIds.length === 0;
    return html`
      <ha-card>
        <div class="header">
          <span class="title">${this._config.title ?? t("title")}</span>
          ${this._link(view, t)}
        </div>
        <div class="content">
          ${empty
            ? html`<div class="empty" data-role="empty">${t("no_entities")}</div>`
            : html`${this._commissioning(view, t)} ${this._stops(view, t)} ${this._connectionPoint(view, t)} ${this._control(view, t)}
              ${this._battery(view, t)} ${this._plan(view, t)} ${this._relays(view, t)}
              ${this._categories(view, t)}`}
        </div>
      </ha-card>
    `;
  }

  private _format(value: number, digits: number): string {
    const language = this.hass?.locale?.language ?? this.hass?.language ?? "en";
    return new Intl.NumberFormat(language, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(
      value,
    );
  }

  private _kw(value: number | null): string {
    return value == null ? "—" : `${this._format(value, 2)} kW`;
  }

  private _pct(reading: Reading | undefined): string {
    return reading?.value == null ? "—" : `${this._format(reading.value, 0)} %`;
  }

  /** The entity's state as Home Assistant words it (translated enum states, units). */
  private _stateText(reading: Reading, t: Localize): string {
    if (!reading.available) return t("unavailable");
    if (reading.stateObj && this.hass?.formatEntityState) return this.hass.formatEntityState(reading.stateObj);
    return reading.state;
  }

  /** "MAXSETP = 40 · 10:15" from the link's command event (its state is the time it fired). */
  private _commandText(event: Reading, t: Localize): string {
    const { command, value, event_type: eventType } = event.stateObj?.attributes ?? {};
    if (event.state === "unavailable") return t("unavailable");
    // An event entity has no state before its first event: no command has come yet, ever.
    if (!event.available || typeof command !== "string") return t("no_command_yet");
    const name = COMMAND_NAMES[command] ?? t(`cmd_${command}` as TextKey) ?? command;
    const shown = typeof value === "boolean" ? t(value ? "on" : "off") : String(value);
    const refused = eventType === COMMAND_REFUSED ? ` (${t("refused")})` : "";
    return `${name} = ${shown}${refused} · ${this._stateText(event, t)}`;
  }

  private _link(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    const link = view.readings.link_connected;
    const last = view.readings.last_command;
    if (!link && !last) return nothing;
    const connected = link?.available && link.state === "on";
    return html`<div class="link">
      ${link
        ? html`<span
            class="chip ${connected ? "ok" : "alarm"}"
            data-role="link"
            data-state=${connected ? "connected" : "disconnected"}
            title=${t("link")}
            >${t("link")}: ${connected ? t("connected") : link.available ? t("disconnected") : t("unavailable")}</span
          >`
        : nothing}
      ${last
        ? html`<span class="secondary" data-role="last-command"
            >${t("last_command")}: ${this._commandText(last, t)}</span
          >`
        : nothing}
    </div>`;
  }

  /**
   * The commissioning run: its progress while it runs, then its outcome and report; a start that
   * asks for a confirmation first (the run switches relays and limits the site for minutes).
   */
  private _commissioning(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    const run = view.readings.commissioning;
    if (!run?.available) return nothing;
    const start = pressable(view.readings.commissioning_start);
    const abort = pressable(view.readings.commissioning_abort);
    const attributes = run.stateObj?.attributes ?? {};
    const error = this._runError
      ? html`<div class="error" data-role="commissioning-error">${this._runError}</div>`
      : nothing;
    if (run.state === "running") {
      const progress = Number(attributes.progress ?? 0);
      const step = t("commissioning_step")
        .replace("{index}", String(Number(attributes.step_index ?? 0) + 1))
        .replace("{steps}", String(attributes.steps ?? "?"));
      return html`<section data-role="commissioning" data-state="running">
        <h3>${t("commissioning")}</h3>
        <div class="row">
          <span class="label">${step}</span>
          <span class="value" data-role="commissioning-progress">${progress} %</span>
        </div>
        ${attributes.step ? html`<div class="secondary" data-role="commissioning-step">${attributes.step}</div>` : nothing}
        <div class="soe"><div style="width:${Math.max(0, Math.min(100, progress))}%"></div></div>
        ${abort
          ? html`<div class="actions">
              <button data-role="commissioning-abort" @click=${() => this._press(abort)}>${t("commissioning_abort")}</button>
            </div>`
          : nothing}
        ${error}
      </section>`;
    }
    const ended = ["passed", "failed", "aborted"].includes(run.state);
    if (!ended && !start) return nothing;
    const level = run.state === "passed" ? "ok" : run.state === "failed" ? "alarm" : "warn";
    const report = typeof attributes.report === "string" ? attributes.report : undefined;
    return html`<section data-role="commissioning" data-state=${run.state}>
      ${ended
        ? html`<div class="row">
            <span class="chip ${level}">${t("commissioning")}: ${t(`commissioning_${run.state}` as TextKey)}</span>
            ${report
              ? html`<button data-role="commissioning-report" @click=${() => this._openReport(report)}>
                  ${t("commissioning_report")}
                </button>`
              : nothing}
          </div>`
        : nothing}
      ${start ? this._startControl(start, t) : nothing} ${error}
    </section>`;
  }

  private _startControl(start: string, t: Localize): TemplateResult {
    if (!this._confirmingRun) {
      return html`<div class="actions">
        <button data-role="commissioning-start" @click=${() => this._askToStart()}>${t("commissioning_start")}</button>
      </div>`;
    }
    return html`<div class="confirm" data-role="commissioning-confirm">
      <p>${t("commissioning_confirm")}</p>
      <div class="actions">
        <button data-role="commissioning-cancel" @click=${() => (this._confirmingRun = false)}>${t("cancel")}</button>
        <button class="primary" data-role="commissioning-confirm-start" @click=${() => this._press(start)}>
          ${t("commissioning_confirm_start")}
        </button>
      </div>
    </div>`;
  }

  private _askToStart(): void {
    this._runError = undefined;
    this._confirmingRun = true;
  }

  /** Press one of the link's run buttons; a refusal (e.g. an RTU connected outside test mode) shows. */
  private async _press(entityId: string): Promise<void> {
    this._confirmingRun = false;
    this._runError = undefined;
    try {
      await this.hass?.callService?.("button", "press", { entity_id: entityId });
    } catch (err) {
      // Home Assistant rejects with its error object: the message is the integration's translation.
      this._runError = (err as { message?: string } | undefined)?.message ?? String(err);
    }
  }

  /** Open a report of the integration (behind the login) through a short-lived signed path. */
  private async _openReport(path: string): Promise<void> {
    if (!this.hass) return;
    const signed = await this.hass.callWS<{ path: string }>({ type: "auth/sign_path", path, expires: 300 });
    window.open(signed.path, "_blank");
  }

  private _stops(view: SiteView, t: Localize): TemplateResult {
    const flags: [TextKey, Reading | undefined, string][] = [
      ["stop_production", view.readings.emergency_stop_production, "stop-production"],
      ["stop_consumption", view.readings.emergency_stop_consumption, "stop-consumption"],
      ["test_mode", view.readings.test_mode, "test-mode"],
    ];
    return html`<div class="flags">
      ${flags
        .filter(([, reading]) => reading)
        .map(([label, reading, role]) => {
          const r = reading as Reading;
          const on = r.available && r.state === "on";
          const level = !r.available ? "unavailable" : on ? (role === "test-mode" ? "warn" : "alarm") : "ok";
          return html`<span class="chip ${level}" data-role=${role} data-state=${r.available ? r.state : "unavailable"}
            >${t(label)}: ${r.available ? (on ? t("active") : t("off")) : t("unavailable")}</span
          >`;
        })}
    </div>`;
  }

  private _connectionPoint(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    const r = view.readings;
    if (!view.hasGridPower && !r.injection_limit_pct && !r.consumption_limit_pct) return nothing;
    const power = view.gridPowerKw;
    const direction = power == null ? "" : power < 0 ? t("exporting") : t("importing");
    return html`<section>
      <h3>${t("connection_point")}</h3>
      ${view.hasGridPower
        ? html`<div class="big ${power == null ? "unavailable" : ""}" data-role="grid-power">
            ${power == null ? t("unavailable") : html`${this._kw(Math.abs(power))} <small>${direction}</small>`}
            ${view.gridPowerPct == null
              ? nothing
              : html`<small data-role="grid-power-pct">(${this._format(view.gridPowerPct, 0)} % ${t("of_capacity")})</small>`}
          </div>
          ${this._bar(view)}`
        : nothing}
      <div class="limits">
        ${this._limit(t, "injection_limit", r.injection_limit_pct, view.injectionLimitKw)}
        ${this._limit(t, "consumption_limit", r.consumption_limit_pct, view.consumptionLimitKw)}
        ${this._limit(t, "asset_production_limit", r.asset_production_limit_pct, null)}
        ${this._limit(t, "asset_consumption_limit", r.asset_consumption_limit_pct, null)}
      </div>
    </section>`;
  }

  private _limit(t: Localize, label: TextKey, pct: Reading | undefined, kw: number | null): TemplateResult | typeof nothing {
    if (!pct && kw == null) return nothing;
    const unavailable = pct !== undefined && !pct.available;
    return html`<div class="limit ${unavailable ? "unavailable" : ""}" data-role=${label.replaceAll("_", "-")}>
      <span class="label">${t(label)}</span>
      <span class="value"
        >${unavailable ? t("unavailable") : html`${this._pct(pct)}${kw == null ? nothing : html` · ${this._kw(kw)}`}`}</span
      >
    </div>`;
  }

  /** A bar from the injection limit (left) to the consumption limit (right) with the grid power on it. */
  private _bar(view: SiteView): TemplateResult | typeof nothing {
    const power = view.gridPowerKw;
    const left = view.injectionLimitKw;
    const right = view.consumptionLimitKw;
    if (power == null || (left == null && right == null)) return nothing;
    const span = Math.max(left ?? 0, right ?? 0, Math.abs(power), 0.001) * 1.1;
    const position = (kw: number): number => 50 + (kw / span) * 50;
    const over = (power > 0 && right != null && power > right) || (power < 0 && left != null && -power > left);
    return html`<div class="bar" aria-hidden="true">
      ${left == null ? nothing : html`<div class="bound" style="left:${position(-left)}%"></div>`}
      ${right == null ? nothing : html`<div class="bound" style="left:${position(right)}%"></div>`}
      <div class="zero" style="left:50%"></div>
      <div
        class="fill ${over ? "over" : ""}"
        style="left:${Math.min(50, position(power))}%;width:${Math.abs(position(power) - 50)}%"
      ></div>
    </div>`;
  }

  private _control(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    const r = view.readings;
    const rows: TemplateResult[] = [];
    const reason = (label: TextKey, value: SiteView["reasonP"], role: string): void => {
      if (value) {
        rows.push(html`<div class="row" data-role=${role} data-state=${value}>
          <span class="label">${t(label)}</span>
          <span class="value reason ${value}">${t(`reason_${value}` as TextKey)}</span>
        </div>`);
      }
    };
    reason("reason_p", view.reasonP, "reason-p");
    reason("reason_q", view.reasonQ, "reason-q");
    if (r.q_mode) {
      rows.push(html`<div class="row" data-role="q-mode">
        <span class="label">${t("q_mode")}</span> <span class="value">${this._stateText(r.q_mode, t)}</span>
      </div>`);
    }
    if (r.q_band_min_pct || r.q_band_max_pct) {
      rows.push(html`<div class="row" data-role="q-band">
        <span class="label">${t("q_band")}</span>
        <span class="value">${this._pct(r.q_band_min_pct)} … ${this._pct(r.q_band_max_pct)}</span>
      </div>`);
    }
    return rows.length ? html`<section class="rows">${rows}</section>` : nothing;
  }

  private _battery(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    const soe = view.readings.bess_soe;
    const power = view.readings.bess_power;
    if (!soe && !power) return nothing;
    return html`<section>
      <h3>${t("battery")}</h3>
      ${soe
        ? html`<div class="row" data-role="bess-soe">
            <span class="label">${t("state_of_energy")}</span>
            <span class="value ${soe.available ? "" : "unavailable"}"
              >${soe.available ? this._pct(soe) : t("unavailable")}</span
            >
          </div>
          ${soe.value == null
            ? nothing
            : html`<div class="soe"><div style="width:${Math.max(0, Math.min(100, soe.value))}%"></div></div>`}`
        : nothing}
      ${power
        ? html`<div class="row" data-role="bess-power">
            <span class="label">${t("battery_power")}</span>
            <span class="value ${power.available ? "" : "unavailable"}"
              >${power.available ? this._kw(power.value) : t("unavailable")}</span
            >
          </div>`
        : nothing}
    </section>`;
  }

  /** The battery plan as bars (planned power, discharge up) with the price as a line over them. */
  private _plan(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    if (!view.readings.battery_plan) return nothing;
    const steps = view.plan;
    if (!steps.length) {
      return html`<section data-role="plan">
        <h3>${t("battery_plan")}</h3>
        <div class="unavailable">${t("no_plan")}</div>
      </section>`;
    }
    const width = 300;
    const height = 80;
    const middle = height / 2;
    const step = width / steps.length;
    const most = Math.max(...steps.map((s) => Math.abs(s.powerKw)), 0.001);
    const prices = steps.map((s) => s.priceEurPerKwh).filter((p): p is number => p !== null);
    const low = Math.min(...prices, 0);
    const high = Math.max(...prices, low + 0.001);
    const priceY = (price: number): number => height - 2 - ((price - low) / (high - low)) * (height - 4);
    const points = steps
      .map((s, i) => (s.priceEurPerKwh === null ? null : `${(i + 0.5) * step},${priceY(s.priceEurPerKwh)}`))
      .filter((p) => p !== null)
      .join(" ");
    const first = new Date(steps[0].start);
    const last = new Date(steps[steps.length - 1].start);
    const time = (at: Date): string =>
      at.toLocaleTimeString(this.hass?.locale?.language ?? "en", { hour: "2-digit", minute: "2-digit" });
    return html`<section data-role="plan">
      <h3>${t("battery_plan")}</h3>
      <svg data-role="plan-chart" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img">
        <title>${t("battery_plan")}: ${t("planned_power")}, ${t("price")}</title>
        <line class="axis" x1="0" x2=${width} y1=${middle} y2=${middle}></line>
        ${steps.map((s, i) => {
          const size = (Math.abs(s.powerKw) / most) * (middle - 2);
          const kind = s.powerKw >= 0 ? "discharge" : "charge";
          return svg`<rect data-role="plan-bar" data-kind=${kind} class=${kind} x=${i * step}
            y=${s.powerKw >= 0 ? middle - size : middle} width=${Math.max(step - 0.5, 0.5)} height=${size}></rect>`;
        })}
        ${points ? svg`<polyline data-role="plan-price" class="price" points=${points}></polyline>` : nothing}
      </svg>
      <div class="legend">
        <span>${time(first)}</span>
        <span><i class="discharge"></i>${t("planned_power")} (± ${this._format(most, 1)} kW)</span>
        <span><i class="price"></i>${t("price")}</span>
        <span>${time(last)}</span>
      </div>
    </section>`;
  }

  private _relays(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    if (!view.relayModules.length) return nothing;
    return html`<section>
      <h3>${t("relays")}</h3>
      ${view.relayModules.map(
        (module) => html`<div class="module" data-role="relay-module">
          ${module.name ? html`<span class="label">${module.name}</span>` : nothing}
          <div class="flags">
            ${module.relays.map((relay) => {
              const state = relay.available ? (relay.state === "on" ? "on" : "off") : "unavailable";
              const label = relay.available ? (relay.state === "on" ? t("on") : t("off")) : t("unavailable");
              return html`<span
                class="chip small ${state}"
                data-role="relay"
                data-state=${state}
                data-entity=${relay.entityId}
                title="${relay.name}: ${label}"
                >${relay.name}</span
              >`;
            })}
          </div>
        </div>`,
      )}
    </section>`;
  }

  private _categories(view: SiteView, t: Localize): TemplateResult | typeof nothing {
    if (!view.categories.length) return nothing;
    return html`<section>
      <h3>${t("categories")}</h3>
      <div class="grid">
        ${view.categories.map(
          ({ category, reading }) =>
            html`<div class="row" data-role="category" data-category=${category}>
              <span class="label">${t(`cat_${category}` as TextKey)}</span>
              <span class="value ${reading.available ? "" : "unavailable"}"
                >${reading.available ? this._kw(reading.value) : t("unavailable")}</span
              >
            </div>`,
        )}
      </div>
    </section>`;
  }

  static styles = css`
    :host {
      display: block;
    }
    ha-card {
      display: block;
      padding: 16px;
      color: var(--primary-text-color, #212121);
      background: var(--ha-card-background, var(--card-background-color, #fff));
      border-radius: var(--ha-card-border-radius, 12px);
    }
    .header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
      margin-bottom: 8px;
    }
    .title {
      font-size: 1.4em;
      font-weight: 500;
    }
    .link {
      display: flex;
      flex-direction: column;
      align-items: flex-end;
      gap: 2px;
    }
    .secondary,
    small,
    .label {
      color: var(--secondary-text-color, #727272);
    }
    section {
      margin-top: 12px;
    }
    h3 {
      margin: 0 0 6px;
      font-size: 0.95em;
      font-weight: 500;
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: var(--secondary-text-color, #727272);
    }
    .big {
      font-size: 1.8em;
      font-weight: 400;
    }
    .big small {
      font-size: 0.5em;
    }
    .flags {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
    }
    section[data-role="commissioning"] button {
      font: inherit;
      color: var(--primary-color);
      background: none;
      border: 1px solid var(--primary-color);
      border-radius: 12px;
      padding: 2px 10px;
      cursor: pointer;
    }
    section[data-role="commissioning"] button.primary {
      color: var(--text-primary-color, #fff);
      background: var(--primary-color, #03a9f4);
    }
    section[data-role="commissioning"] .actions {
      display: flex;
      justify-content: flex-end;
      gap: 8px;
      margin-top: 6px;
    }
    section[data-role="commissioning"] .confirm p {
      margin: 6px 0;
    }
    section[data-role="commissioning"] .error {
      margin-top: 6px;
      color: var(--error-color, #db4437);
    }
    .chip {
      border-radius: 12px;
      padding: 2px 10px;
      font-size: 0.9em;
      border: 1px solid var(--divider-color, #e0e0e0);
    }
    .chip.ok {
      color: var(--success-color, #43a047);
      border-color: var(--success-color, #43a047);
    }
    .chip.on {
      color: var(--text-primary-color, #fff);
      background: var(--success-color, #43a047);
      border-color: var(--success-color, #43a047);
    }
    .chip.small {
      padding: 0 8px;
      font-size: 0.8em;
    }
    .module {
      display: flex;
      flex-direction: column;
      gap: 4px;
      margin-bottom: 6px;
    }
    .chip.off {
      color: var(--secondary-text-color, #727272);
    }
    .chip.alarm {
      color: var(--text-primary-color, #fff);
      background: var(--error-color, #db4437);
      border-color: var(--error-color, #db4437);
      font-weight: 600;
    }
    .chip.warn {
      color: var(--text-primary-color, #fff);
      background: var(--warning-color, #ffa600);
      border-color: var(--warning-color, #ffa600);
    }
    .unavailable,
    .chip.unavailable {
      color: var(--disabled-text-color, #bdbdbd);
      font-style: italic;
    }
    .limits,
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(180px, 1fr));
      gap: 4px 16px;
      margin-top: 8px;
    }
    .row,
    .limit {
      display: flex;
      justify-content: space-between;
      gap: 8px;
    }
    .reason.congestion {
      color: var(--warning-color, #ffa600);
      font-weight: 600;
    }
    .reason.test {
      color: var(--info-color, #039be5);
      font-weight: 600;
    }
    .bar,
    .soe {
      position: relative;
      height: 10px;
      margin: 6px 0;
      border-radius: 5px;
      background: var(--secondary-background-color, #e5e5e5);
      overflow: hidden;
    }
    .bar .fill,
    .soe div {
      position: absolute;
      top: 0;
      bottom: 0;
      background: var(--primary-color, #03a9f4);
    }
    .soe div {
      left: 0;
      background: var(--success-color, #43a047);
    }
    .bar .fill.over {
      background: var(--error-color, #db4437);
    }
    .bar .bound,
    .bar .zero {
      position: absolute;
      top: 0;
      bottom: 0;
      width: 2px;
      z-index: 1;
      background: var(--error-color, #db4437);
    }
    .bar .zero {
      background: var(--primary-text-color, #212121);
      opacity: 0.4;
    }
    .empty {
      color: var(--secondary-text-color, #727272);
    }
    svg[data-role="plan-chart"] {
      display: block;
      width: 100%;
      height: 80px;
    }
    svg .axis {
      stroke: var(--divider-color, #e0e0e0);
      stroke-width: 1;
    }
    svg .discharge,
    .legend i.discharge {
      fill: var(--success-color, #43a047);
      background: var(--success-color, #43a047);
    }
    svg .charge {
      fill: var(--primary-color, #03a9f4);
    }
    svg .price {
      fill: none;
      stroke: var(--warning-color, #ffa600);
      stroke-width: 1.5;
      vector-effect: non-scaling-stroke;
    }
    .legend {
      display: flex;
      justify-content: space-between;
      gap: 8px;
      font-size: 0.8em;
      color: var(--secondary-text-color, #727272);
    }
    .legend i {
      display: inline-block;
      width: 10px;
      height: 3px;
      margin-right: 4px;
      vertical-align: middle;
    }
    .legend i.price {
      background: var(--warning-color, #ffa600);
    }
  `;
}

/** The entity id of a button that can be pressed (a button has no state before its first press). */
function pressable(reading: Reading | undefined): string | undefined {
  return reading?.stateObj && reading.state !== "unavailable" ? reading.entityId : undefined;
}
