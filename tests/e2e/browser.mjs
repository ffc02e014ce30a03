// Browser half of the end-to-end test (run by `python -m tests.e2e`, which starts the demo).
//
// Drives Debian's Chromium through playwright-core (installed in frontend/ from the lockfile;
// it never downloads a browser). Each check prints PASS or FAIL; the first failure stops the run,
// saves a screenshot of the page and exits 1.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(new URL("../../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.GRID_EMS_URL;
const CONTROL = process.env.GRID_EMS_CONTROL_URL;
const SCREENSHOTS = process.env.GRID_EMS_SCREENSHOTS;
const ARTIFACTS = process.env.GRID_EMS_ARTIFACTS;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const USER = "demo";
const PASSWORD = "grid-ems-demo";
const DASHBOARD = "/grid-ems/site";
const STOP_DEADLINE_MS = 2000;
const WAIT_MS = 30000;

mkdirSync(SCREENSHOTS, { recursive: true });
mkdirSync(ARTIFACTS, { recursive: true });

async function control(pathAndQuery, method = "GET") {
  const response = await fetch(`${CONTROL}${pathAndQuery}`, { method });
  if (!response.ok) throw new Error(`control ${pathAndQuery}: ${response.status}`);
  return response.json();
}

/** Wait until `locator` shows text matching `pattern`; the error shows the text last seen. */
async function waitForText(locator, pattern, what, timeout = WAIT_MS) {
  try {
    await locator.filter({ hasText: pattern }).waitFor({ timeout });
  } catch {
    const last = await locator.textContent({ timeout: 1000 }).catch(() => "(not on the page)");
    throw new Error(`${what}: expected ${pattern}, saw "${(last ?? "").replace(/\s+/g, " ").trim()}"`);
  }
}

/** Escape a literal for a regular expression. */
const literal = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const userDataDir = mkdtempSync(path.join(tmpdir(), "grid-ems-e2e-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 960 },
  locale: "en-GB",
  colorScheme: "light",
});
const page = context.pages()[0] ?? (await context.newPage());
// What went wrong in the page, shown when a check fails.
const pageProblems = [];
page.on("console", (message) => {
  if (message.type() === "error") pageProblems.push(`console: ${message.text()}`);
});
page.on("pageerror", (error) => pageProblems.push(`error: ${error.message}`));
page.on("requestfailed", (request) => pageProblems.push(`request failed: ${request.url()}`));
page.on("response", (response) => {
  if (response.status() >= 400 || response.url().includes("/grid_ems/")) {
    pageProblems.push(`HTTP ${response.status()}: ${response.url()}`);
  }
});
const card = page.locator("grid-ems-card");
const role = (name) => card.locator(`[data-role="${name}"]`);

let passed = 0;
async function check(name, body) {
  const started = Date.now();
  try {
    const detail = await body();
    passed += 1;
    console.log(`PASS ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ""}`);
  } catch (error) {
    console.log(`FAIL ${name}: ${error.message}`);
    for (const problem of pageProblems) console.log(`  page: ${problem}`);
    await page.screenshot({ path: path.join(ARTIFACTS, "failure.png"), fullPage: true }).catch(() => {});
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    process.exit(1);
  }
}

await check("log in to Home Assistant as the demo user", async () => {
  await page.goto(`${BASE}${DASHBOARD}`);
  await page.locator('input[name="username"]').fill(USER);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname === DASHBOARD, { timeout: WAIT_MS });
});

await check("the dashboard's Grid EMS card shows the simulators' values", async () => {
  // The integration registered its card: the page loads the bundle without a dashboard resource.
  await page.waitForFunction(() => customElements.get("grid-ems-card") !== undefined, null, { timeout: WAIT_MS }).catch(async () => {
    const imports = await page.evaluate(() =>
      [...document.scripts].map((script) => script.textContent).filter((text) => text.includes("grid_ems")),
    );
    const again = await page.evaluate(async (source) => {
      const url = source.match(/import\("([^"]+)"\)/)?.[1];
      if (!url) return "no import to retry";
      try {
        await import(url);
        return customElements.get("grid-ems-card") ? "defined when imported again" : "still undefined";
      } catch (error) {
        return `import again failed: ${error}`;
      }
    }, imports.join(" "));
    throw new Error(
      `the card's element is not defined; the page imports: ${imports.join(" ") || "nothing of Grid EMS"} (${again})`,
    );
  });
  const expected = await control("/expected");
  const power = expected.grid_power_kw.toFixed(2);
  await waitForText(role("grid-power"), new RegExp(`${literal(power)} kW\\s+importing`), "grid power");
  await waitForText(role("bess-soe"), new RegExp(`\\b${expected.bess_soe_pct} %`), "battery state of energy");
  await waitForText(role("link"), /: Connected/, "RTU link");
  await waitForText(role("stop-production"), /: Off/, "emergency stop production");
  await waitForText(role("reason-p"), /Normal/, "reason P");
  await card.screenshot({ path: path.join(SCREENSHOTS, "card.png") });
  // Home Assistant scrolls inside the page: a tall window shows the whole dashboard.
  await page.setViewportSize({ width: 1600, height: 1500 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard.png") });
  await page.setViewportSize({ width: 1280, height: 960 });
  return `grid power ${power} kW, state of energy ${expected.bess_soe_pct} %`;
});

await check(`an emergency stop from the RTU shows on the card within ${STOP_DEADLINE_MS} ms`, async () => {
  const sent = Date.now();
  const { confirmed } = await control("/emergency-stop-production?on=1", "POST");
  if (!confirmed) throw new Error("the link did not confirm the emergency stop");
  const remaining = STOP_DEADLINE_MS - (Date.now() - sent);
  await waitForText(role("stop-production"), /: ACTIVE/, "emergency stop", Math.max(1, remaining));
  const latency = Date.now() - sent;
  await card.screenshot({ path: path.join(SCREENSHOTS, "card-emergency-stop.png") });
  return `card changed ${latency} ms after the command was sent`;
});

await check("the card follows the dark theme", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  // Wait for the theme's colors to settle: the card's background all dark (each channel below 64).
  const background = (element) => getComputedStyle(element.shadowRoot.querySelector("ha-card")).backgroundColor;
  const light = await card.evaluate(background);
  await page
    .waitForFunction(
      (element) => {
        const channels = getComputedStyle(element.shadowRoot.querySelector("ha-card")).backgroundColor.match(/\d+/g);
        return channels.slice(0, 3).every((channel) => Number(channel) < 64);
      },
      await card.elementHandle(),
      { timeout: WAIT_MS },
    )
    .catch(() => {
      throw new Error(`the card's background did not turn dark (light: ${light})`);
    });
  const color = await card.evaluate(background);
  await card.screenshot({ path: path.join(SCREENSHOTS, "card-dark.png") });
  await page.emulateMedia({ colorScheme: "light" });
  const { confirmed } = await control("/emergency-stop-production?on=0", "POST");
  if (!confirmed) throw new Error("the link did not confirm the release of the emergency stop");
  await waitForText(role("stop-production"), /: Off/, "released emergency stop");
  return `card background ${light} in light mode, ${color} in dark mode`;
});

// --- Battery plan (issue 19): the card's chart of the plan on the demo's made-up prices ---

/** The plan may wait for the battery's first reading: the planning tries again each minute. */
const PLAN_WAIT_MS = 90000;

async function checkBatteryPlanChart() {
  const chart = role("plan-chart");
  await chart.waitFor({ timeout: PLAN_WAIT_MS }).catch(async () => {
    const shown = await role("plan").textContent({ timeout: 1000 }).catch(() => "(no plan section)");
    throw new Error(`no plan chart on the card; its plan section shows "${(shown ?? "").trim()}"`);
  });
  const bars = await chart.locator('[data-role="plan-bar"]').count();
  const price = await chart.locator('[data-role="plan-price"]').getAttribute("points");
  if (bars < 4) throw new Error(`the chart has ${bars} quarter hours`);
  if (!price || price.split(" ").length !== bars) throw new Error(`the price line does not span the ${bars} bars`);
  await role("plan").screenshot({ path: path.join(SCREENSHOTS, "card-plan.png") });
  return `${bars} quarter hours planned, with their prices`;
}

await check("the card draws the battery plan on the demo's made-up prices", checkBatteryPlanChart);

/** The elements with one of `tags` inside the flow form's field `name` (by schema name, in any
 * language), as soon as there are some. */
async function fieldElements(name, tags) {
  const handle = await page.waitForFunction(
    ([fieldName, wanted]) => {
      const deep = (root, match, found = []) => {
        for (const element of root.querySelectorAll("*")) {
          if (match(element)) found.push(element);
          if (element.shadowRoot) deep(element.shadowRoot, match, found);
        }
        return found;
      };
      const [field] = deep(document, (element) => element.tagName === "HA-SELECTOR" && element.name === fieldName);
      const elements = field ? deep(field.shadowRoot ?? field, (element) => wanted.includes(element.tagName)) : [];
      return elements.length ? elements : null;
    },
    [name, tags],
    { timeout: WAIT_MS },
  );
  const properties = await handle.getProperties();
  return [...properties.values()].map((property) => property.asElement()).filter(Boolean);
}

/** The <input> elements of the flow form's field `name`. */
async function fieldInputs(name) {
  return fieldElements(name, ["INPUT"]);
}

/** Choose `value` in the flow form's radio field `name`: an <input type=radio> up to Home
 * Assistant 2025.x's frontend, an <ha-radio-option> in 2026.x's. */
async function chooseOption(name, value) {
  for (const option of await fieldElements(name, ["INPUT", "HA-RADIO-OPTION"])) {
    if ((await option.evaluate((element) => element.value)) === value) {
      await option.click();
      return;
    }
  }
  throw new Error(`the form offers no ${value} in ${name}`);
}

async function entryTitles() {
  return page.evaluate(async () => {
    const entries = await document
      .querySelector("home-assistant")
      .hass.callWS({ type: "config_entries/get", domain: "grid_ems" });
    return entries.map((entry) => entry.title);
  });
}

await check("the config flow adds a Modbus battery, with the unit id scan shown as progress", async () => {
  const spare = (await control("/expected")).spare_bess;
  const before = await entryTitles();
  await page.goto(`${BASE}/config/integrations/dashboard/add?domain=grid_ems`);
  const dialog = page.locator("dialog-data-entry-flow");
  // Home Assistant first asks whether to set up the integration.
  await page.getByRole("button", { name: "OK" }).click();
  await dialog.getByText(/Modbus device/).waitFor({ timeout: WAIT_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, "config-flow-menu.png") });
  await dialog.getByText(/Modbus device/).click();

  await chooseOption("profile", "powerpack_bess");
  await (await fieldInputs("host"))[0].fill(spare.host);
  await (await fieldInputs("port"))[0].fill(String(spare.port));
  // A DOM click: in 2026.x's frontend the switch's thumb covers its input.
  await (await fieldInputs("scan"))[0].evaluate((input) => input.checked || input.click());
  await page.screenshot({ path: path.join(SCREENSHOTS, "config-flow-modbus.png") });
  await dialog.getByRole("button", { name: /submit/i }).click();

  // The scan probes unit ids 1..247; the spare battery answers slowly enough to see progress.
  await dialog.locator("step-flow-progress").waitFor({ timeout: WAIT_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, "config-flow-scan.png") });
  await chooseOption("unit_id", String(spare.unit_id));
  await page.screenshot({ path: path.join(SCREENSHOTS, "config-flow-scan-result.png") });
  await dialog.getByRole("button", { name: /submit/i }).click();
  await dialog.locator("step-flow-create-entry").waitFor({ timeout: WAIT_MS });
  await page.screenshot({ path: path.join(SCREENSHOTS, "config-flow-done.png") });

  const after = await entryTitles();
  const added = after.filter((title) => !before.includes(title));
  if (after.length !== before.length + 1) throw new Error(`entries before ${before}, after ${after}`);
  return `added "${added[0]}" (unit id ${spare.unit_id} found by the scan)`;
});

await context.close();
rmSync(userDataDir, { recursive: true, force: true });
console.log(`Browser checks: all ${passed} passed`);
