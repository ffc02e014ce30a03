/** Entry point of the bundle: defines the card and its editor and lists the card in the card picker. */

import { GridEmsCardEditor } from "./editor";
import { CARD_TYPE, EDITOR_TYPE, GridEmsCard } from "./grid-ems-card";

declare global {
  interface Window {
    customCards?: { type: string; name: string; description: string; preview?: boolean }[];
  }
}

// The bundle may be loaded twice (resource added by hand as well): define each element once.
if (!customElements.get(CARD_TYPE)) customElements.define(CARD_TYPE, GridEmsCard);
if (!customElements.get(EDITOR_TYPE)) customElements.define(EDITOR_TYPE, GridEmsCardEditor);

window.customCards = window.customCards ?? [];
if (!window.customCards.some((card) => card.type === CARD_TYPE)) {
  window.customCards.push({
    type: CARD_TYPE,
    name: "Grid EMS",
    description: "Grid power against the grid operator's limits, emergency stops, the RTU link, battery and relays.",
    preview: true,
  });
}
