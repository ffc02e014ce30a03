import { afterEach, describe, expect, it } from "vitest";

import "../src/index";
import type { GridEmsCardEditor } from "../src/editor";
import type { GridEmsCardConfig } from "../src/types";
import { BESS_ENTRY, LINK_ENTRY, P1_ENTRY, fakeHass, siteEntities } from "./fake-hass";

const ENTRIES = [
  { entry_id: LINK_ENTRY, domain: "grid_ems", title: "Grid operator link", state: "loaded" },
  { entry_id: P1_ENTRY, domain: "grid_ems", title: "P1 meter", state: "loaded" },
  { entry_id: BESS_ENTRY, domain: "grid_ems", title: "BESS", state: "loaded" },
];

async function renderEditor(config: GridEmsCardConfig, entries = ENTRIES): Promise<GridEmsCardEditor> {
  const editor = document.createElement("grid-ems-card-editor") as GridEmsCardEditor;
  editor.setConfig(config);
  editor.hass = fakeHass(siteEntities(), "en", entries);
  document.body.appendChild(editor);
  // First render asks HA for the entries; the second shows them.
  await editor.updateComplete;
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  await editor.updateComplete;
  return editor;
}

function checkboxes(editor: GridEmsCardEditor): HTMLInputElement[] {
  return [...(editor.shadowRoot?.querySelectorAll<HTMLInputElement>('input[name="entry"]') ?? [])];
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("grid-ems-card-editor", () => {
  it("lists the Grid EMS entries and emits the chosen ones in HA's order", async () => {
    const editor = await renderEditor({ type: "custom:grid-ems-card", entries: [BESS_ENTRY] });
    const boxes = checkboxes(editor);
    expect(boxes.map((box) => box.checked)).toEqual([false, false, true]);
    const emitted: GridEmsCardConfig[] = [];
    editor.addEventListener("config-changed", (event) => emitted.push((event as CustomEvent).detail.config));

    boxes[0].checked = true;
    boxes[0].dispatchEvent(new Event("change"));
    expect(emitted.at(-1)?.entries).toEqual([LINK_ENTRY, BESS_ENTRY]);

    boxes[2].checked = false;
    boxes[2].dispatchEvent(new Event("change"));
    expect(emitted.at(-1)?.entries).toEqual([LINK_ENTRY]);
  });

  it("sets and clears the title", async () => {
    const editor = await renderEditor({ type: "custom:grid-ems-card" });
    const emitted: GridEmsCardConfig[] = [];
    editor.addEventListener("config-changed", (event) => emitted.push((event as CustomEvent).detail.config));
    const input = editor.shadowRoot?.querySelector<HTMLInputElement>('input[name="title"]') as HTMLInputElement;
    input.value = "My site";
    input.dispatchEvent(new Event("change"));
    expect(emitted.at(-1)).toEqual({ type: "custom:grid-ems-card", title: "My site" });
    input.value = "";
    input.dispatchEvent(new Event("change"));
    expect(emitted.at(-1)).toEqual({ type: "custom:grid-ems-card" });
  });

  it("says so when there are no entries", async () => {
    const editor = await renderEditor({ type: "custom:grid-ems-card" }, []);
    expect(editor.shadowRoot?.textContent).toContain("No Grid EMS entries are configured yet.");
    expect(checkboxes(editor)).toHaveLength(0);
  });
});
