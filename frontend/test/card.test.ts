import { afterEach, describe, expect, it } from "vitest";

import "../src/index";
import type { GridEmsCard } from "../src/grid-ems-card";
import type { HomeAssistant } from "../src/types";
import { fakeHass, siteEntities, withStates } from "./fake-hass";

async function renderCard(hass: HomeAssistant, config: Record<string, unknown> = {}): Promise<GridEmsCard> {
  const card = document.createElement("grid-ems-card") as GridEmsCard;
  card.setConfig({ type: "custom:grid-ems-card", ...config });
  card.hass = hass;
  document.body.appendChild(card);
  await card.updateComplete;
  return card;
}

function part(card: GridEmsCard, role: string): HTMLElement {
  const element = card.shadowRoot?.querySelector<HTMLElement>(`[data-role="${role}"]`);
  if (!element) throw new Error(`no ${role} in the card`);
  return element;
}

function text(card: GridEmsCard, role: string): string {
  return (part(card, role).textContent ?? "").replace(/\s+/g, " ").trim();
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("grid-ems-card", () => {
  it("shows grid power against the limits in kW and % of capacity", async () => {
    const card = await renderCard(fakeHass(siteEntities()));
    expect(text(card, "grid-power")).toContain("3.20 kW importing");
    expect(text(card, "grid-power-pct")).toBe("(16 % of contractual capacity)");
    expect(text(card, "injection-limit")).toBe("Injection limit 40 % · 4.00 kW");
    expect(text(card, "consumption-limit")).toBe("Consumption limit 50 % · 10.00 kW");
    expect(text(card, "q-band")).toBe("Q band -20 % … 30 %");
    expect(part(card, "reason-p").dataset.state).toBe("congestion");
    expect(text(card, "reason-p")).toBe("Reason P Congestion");
    expect(text(card, "link")).toBe("RTU link: Connected");
    expect(text(card, "last-command")).toBe("Last command: MAXSETP = 50 · 2025-04-11T10:15:00.000+00:00");
    expect(text(card, "bess-soe")).toBe("State of energy 76 %");
    expect(text(card, "bess-power")).toBe("Power -1.25 kW");
  });

  it("marks a grid power beyond its limit", async () => {
    const card = await renderCard(withStates(fakeHass(siteEntities()), { "sensor.p1_power_import": "12500" }));
    expect(card.shadowRoot?.querySelector(".bar .fill.over")).not.toBeNull();
  });

  it("shows emergency stops and test mode when active, and updates live", async () => {
    const hass = fakeHass(siteEntities());
    const card = await renderCard(hass);
    expect(text(card, "stop-production")).toBe("Emergency stop production: Off");
    expect(part(card, "stop-production").classList.contains("ok")).toBe(true);

    card.hass = withStates(hass, {
      "binary_sensor.link_stop_production": "on",
      "binary_sensor.link_test": "on",
      "sensor.link_reason_p": "test",
      "sensor.link_max_injection": "0",
    });
    await card.updateComplete;
    expect(text(card, "stop-production")).toBe("Emergency stop production: ACTIVE");
    expect(part(card, "stop-production").classList.contains("alarm")).toBe(true);
    expect(part(card, "test-mode").classList.contains("warn")).toBe(true);
    expect(text(card, "reason-p")).toBe("Reason P Test");
    expect(text(card, "stop-consumption")).toBe("Emergency stop consumption: Off");
    expect(text(card, "injection-limit")).toBe("Injection limit 40 % · 0.00 kW");
  });

  it("shows unavailable entities as unavailable, not as values", async () => {
    const hass = withStates(fakeHass(siteEntities()), {
      "binary_sensor.link_rtu": "unavailable",
      "binary_sensor.link_stop_consumption": "unavailable",
      "sensor.link_maxsetp": "unavailable",
      "sensor.link_max_consumption": "unavailable",
      "sensor.p1_power_import": "unavailable",
      "sensor.bess_soe": "unknown",
      "switch.e1214_relay_2": "unavailable",
      "sensor.link_reason_q": "unavailable",
    });
    const card = await renderCard(hass);
    expect(text(card, "link")).toBe("RTU link: Unavailable");
    expect(part(card, "link").classList.contains("alarm")).toBe(true);
    expect(text(card, "stop-consumption")).toBe("Emergency stop consumption: Unavailable");
    expect(part(card, "stop-consumption").dataset.state).toBe("unavailable");
    expect(text(card, "consumption-limit")).toBe("Consumption limit Unavailable");
    expect(text(card, "grid-power")).toBe("Unavailable");
    expect(text(card, "bess-soe")).toBe("State of energy Unavailable");
    expect(text(card, "reason-q")).toBe("Reason Q Unknown");
    const relays = [...(card.shadowRoot?.querySelectorAll<HTMLElement>('[data-role="relay"]') ?? [])];
    expect(relays.map((relay) => [relay.textContent?.trim(), relay.dataset.state, relay.title])).toEqual([
      ["Relay 2", "unavailable", "Relay 2: Unavailable"],
      ["Relay 10", "on", "Relay 10: On"],
    ]);
    expect(text(card, "relay-module")).toMatch(/^E1214/);
  });

  it("shows a disconnected link as an alarm and relies on HA's formatting of states", async () => {
    const hass = withStates(fakeHass(siteEntities()), { "binary_sensor.link_rtu": "off" });
    hass.formatEntityState = (stateObj) => `«${stateObj.state}»`;
    const card = await renderCard(hass);
    expect(text(card, "link")).toBe("RTU link: Disconnected");
    expect(text(card, "q-mode")).toBe("Q mode «local»");
  });

  it("names the last command, refused or not", async () => {
    const hass = fakeHass(siteEntities());
    hass.states["event.link_dso_command"] = {
      ...hass.states["event.link_dso_command"],
      attributes: { event_type: "command_refused", command: "emergency_stop_production", value: true },
    };
    hass.formatEntityState = () => "10:15";
    const card = await renderCard(hass);
    expect(text(card, "last-command")).toBe("Last command: Emergency stop production = On (refused) · 10:15");
    card.hass = withStates(hass, { "event.link_dso_command": "unknown" });
    await card.updateComplete;
    expect(text(card, "last-command")).toBe("Last command: no command yet");
    card.hass = withStates(hass, { "event.link_dso_command": "unavailable" });
    await card.updateComplete;
    expect(text(card, "last-command")).toBe("Last command: Unavailable");
  });

  it("shows the commissioning run's progress, then its outcome and a link to the report", async () => {
    const running = {
      entityId: "sensor.link_commissioning",
      key: "commissioning",
      state: "running",
      attributes: { step: "Emergency stop production on", step_index: 1, steps: 19, progress: 5 },
    };
    const hass = fakeHass([...siteEntities(), running]);
    const card = await renderCard(hass);
    expect(text(card, "commissioning")).toContain("Step 2 of 19");
    expect(text(card, "commissioning-progress")).toBe("5 %");
    expect(text(card, "commissioning-step")).toBe("Emergency stop production on");

    const signed: Record<string, unknown>[] = [];
    const opened: string[] = [];
    const report = "/api/grid_ems/commissioning/entry-link/20261206T050000000000Z";
    const failed = fakeHass([
      ...siteEntities(),
      { ...running, state: "failed", attributes: { report, progress: 100 } },
    ]);
    failed.callWS = async <T,>(message: Record<string, unknown>) => {
      signed.push(message);
      return { path: `${report}?authSig=x` } as T;
    };
    const open = window.open;
    window.open = ((url: string) => {
      opened.push(url);
      return null;
    }) as typeof window.open;
    card.hass = failed;
    await card.updateComplete;
    expect(part(card, "commissioning").dataset.state).toBe("failed");
    expect(text(card, "commissioning")).toContain("Commissioning run: Failed");
    part(card, "commissioning-report").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(signed).toEqual([{ type: "auth/sign_path", path: report, expires: 300 }]);
    expect(opened).toEqual([`${report}?authSig=x`]);
    window.open = open;

    card.hass = fakeHass([...siteEntities(), { ...running, state: "idle" }]);
    await card.updateComplete;
    expect(card.shadowRoot?.querySelector('[data-role="commissioning"]')).toBeNull();
  });

  it("starts a commissioning run only once it is confirmed, and shows a refusal", async () => {
    const run = { entityId: "sensor.link_commissioning", key: "commissioning", state: "idle" };
    const buttons = [
      { entityId: "button.link_start_run", key: "start_commissioning", state: "unknown" },
      { entityId: "button.link_abort_run", key: "abort_commissioning", state: "unknown" },
    ];
    const hass = fakeHass([...siteEntities(), run, ...buttons]);
    const pressed: unknown[] = [];
    let refusal: unknown;
    hass.callService = async (domain: string, service: string, data?: Record<string, unknown>) => {
      pressed.push([domain, service, data]);
      if (refusal) throw refusal;
    };
    const card = await renderCard(hass);
    expect(part(card, "commissioning").dataset.state).toBe("idle");
    part(card, "commissioning-start").click();
    await card.updateComplete;
    expect(text(card, "commissioning-confirm")).toContain("both emergency stops");
    expect(pressed).toEqual([]);
    part(card, "commissioning-cancel").click();
    await card.updateComplete;
    expect(card.shadowRoot?.querySelector('[data-role="commissioning-confirm"]')).toBeNull();
    expect(pressed).toEqual([]);

    part(card, "commissioning-start").click();
    await card.updateComplete;
    part(card, "commissioning-confirm-start").click();
    await card.updateComplete;
    expect(pressed).toEqual([["button", "press", { entity_id: "button.link_start_run" }]]);
    expect(card.shadowRoot?.querySelector('[data-role="commissioning-confirm"]')).toBeNull();

    // Home Assistant refuses (its error object carries the integration's translated message).
    refusal = { code: "home_assistant_error", message: "Switch the grid operator's test mode on first." };
    part(card, "commissioning-start").click();
    await card.updateComplete;
    part(card, "commissioning-confirm-start").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await card.updateComplete;
    expect(text(card, "commissioning-error")).toBe("Switch the grid operator's test mode on first.");

    // While it runs, the run can be aborted from the card (no confirmation: aborting restores).
    refusal = undefined;
    card.hass = withStates(hass, { "sensor.link_commissioning": "running" });
    await card.updateComplete;
    expect(card.shadowRoot?.querySelector('[data-role="commissioning-start"]')).toBeNull();
    part(card, "commissioning-abort").click();
    await card.updateComplete;
    expect(pressed.at(-1)).toEqual(["button", "press", { entity_id: "button.link_abort_run" }]);

    // A click in the same update as a new `hass` of unchanged states is not lost.
    card.hass = withStates(hass, { "sensor.link_commissioning": "idle" });
    await card.updateComplete;
    part(card, "commissioning-start").click();
    card.hass = { ...card.hass } as HomeAssistant;
    await card.updateComplete;
    expect(text(card, "commissioning-confirm")).toContain("both emergency stops");

    // A link that is not loaded: its buttons are unavailable, nothing to start.
    card.hass = withStates(hass, { "button.link_start_run": "unavailable" });
    await card.updateComplete;
    expect(card.shadowRoot?.querySelector('[data-role="commissioning"]')).toBeNull();
  });

  it("speaks Dutch and French", async () => {
    const nl = await renderCard(fakeHass(siteEntities(), "nl"));
    expect(text(nl, "grid-power")).toContain("3,20 kW afname");
    expect(text(nl, "consumption-limit")).toBe("Afnamelimiet 50 % · 10,00 kW");
    const fr = await renderCard(fakeHass(siteEntities(), "fr-BE"));
    expect(text(fr, "stop-production")).toBe("Arrêt d'urgence production: Arrêt");
  });

  it("explains when there is nothing to show", async () => {
    const card = await renderCard(fakeHass(siteEntities()), { entries: ["no-such-entry"], title: "Site" });
    expect(text(card, "empty")).toContain("No Grid EMS entities found");
    expect(card.shadowRoot?.querySelector(".title")?.textContent).toBe("Site");
  });

  it("rejects a configuration whose entries are not a list", () => {
    const card = document.createElement("grid-ems-card") as GridEmsCard;
    expect(() => card.setConfig({ type: "custom:grid-ems-card", entries: "x" as unknown as string[] })).toThrow(
      /entries/,
    );
  });

  it("is listed in the card picker with an editor", () => {
    expect(window.customCards?.some((card) => card.type === "grid-ems-card")).toBe(true);
    const cardClass = customElements.get("grid-ems-card") as unknown as typeof GridEmsCard;
    expect(cardClass.getConfigElement().tagName.toLowerCase()).toBe("grid-ems-card-editor");
    expect(cardClass.getStubConfig()).toEqual({ entries: [] });
  });
});
