import { afterEach, describe, expect, it } from "vitest";

import "../src/index";
import type { GridEmsCard } from "../src/grid-ems-card";
import { planSteps } from "../src/model";
import { type FakeEntity, fakeHass, siteEntities } from "./fake-hass";

const START = Date.UTC(2025, 3, 11, 10, 0);

function forecast(slots: number): Record<string, unknown>[] {
  return Array.from({ length: slots }, (_, i) => ({
    start: new Date(START + i * 15 * 60000).toISOString(),
    power_kw: i < 4 ? -10 : 5,
    soe_pct: 50,
    grid_kw: 2,
    price_eur_per_kwh: i < 4 ? -0.02 : 0.3,
  }));
}

function planEntity(slots: number, state = "-10.0"): FakeEntity {
  return {
    entityId: "sensor.link_planned_battery_power",
    key: "planned_battery_power",
    state,
    unit: "kW",
    attributes: { forecast: forecast(slots) },
  };
}

async function renderCard(entities: FakeEntity[]): Promise<GridEmsCard> {
  const card = document.createElement("grid-ems-card") as GridEmsCard;
  card.setConfig({ type: "custom:grid-ems-card" });
  card.hass = fakeHass(entities);
  document.body.appendChild(card);
  await card.updateComplete;
  return card;
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("the battery plan", () => {
  it("reads the plan's steps and skips malformed ones", () => {
    const steps = planSteps({ forecast: [...forecast(2), { start: "x" }, "nonsense"] });
    expect(steps).toHaveLength(2);
    expect(steps[0]).toEqual({ start: START, powerKw: -10, priceEurPerKwh: -0.02 });
    expect(planSteps({})).toEqual([]);
  });

  it("draws planned power and price per quarter hour when the plan entity exists", async () => {
    const card = await renderCard([...siteEntities(), planEntity(8)]);
    const chart = card.shadowRoot?.querySelector('[data-role="plan-chart"]');
    expect(chart?.tagName.toLowerCase()).toBe("svg");
    const bars = chart?.querySelectorAll('[data-role="plan-bar"]') ?? [];
    expect(bars).toHaveLength(8);
    // Charging below the zero line, discharging above it.
    expect(bars[0].getAttribute("data-kind")).toBe("charge");
    expect(bars[7].getAttribute("data-kind")).toBe("discharge");
    const price = chart?.querySelector('[data-role="plan-price"]');
    expect(price?.getAttribute("points")?.split(" ")).toHaveLength(8);
    expect(card.shadowRoot?.querySelector('[data-role="plan"]')?.textContent).toContain("Battery plan");
  });

  it("shows no chart without the plan entity, and says so when there is no plan", async () => {
    const without = await renderCard(siteEntities());
    expect(without.shadowRoot?.querySelector('[data-role="plan"]')).toBeNull();
    document.body.innerHTML = "";
    const unavailable = await renderCard([...siteEntities(), { ...planEntity(0, "unavailable"), attributes: {} }]);
    expect(unavailable.shadowRoot?.querySelector('[data-role="plan-chart"]')).toBeNull();
    expect(unavailable.shadowRoot?.querySelector('[data-role="plan"]')?.textContent).toContain("No plan");
  });
});
