/** Entry point of the bundle: defines the card and its editor and lists the card in the card picker. */

import { GridEmsCardEditor } from "./editor";
import { CARD_TYPE, EDITOR_TYPE, GridEmsCard } from "./grid-ems-card";

declare global {
  interface Window {
    customCards?: { type: string; name: string; description: string; preview?: boolean }[];
  }
}

/** Define the elements on the page's current registry, each once (the bundle may load twice). */
function defineElements(): void {
  if (!customElements.get(CARD_TYPE)) customElements.define(CARD_TYPE, GridEmsCard);
  if (!customElements.get(EDITOR_TYPE)) customElements.define(EDITOR_TYPE, GridEmsCardEditor);
}

defineElements();
// Home Assistant imports this bundle in parallel with its own app, whose first act is to install a
// scoped custom element registry polyfill that replaces window.customElements. When this bundle
// runs first, its definitions stay in the native registry only and dashboards do not find the
// card. Define again, on whatever registry is current, once the app's root element exists.
void customElements.whenDefined("home-assistant").then(defineElements);

window.customCards = window.customCards ?? [];
if (!window.customCards.some((card) => card.type === CARD_TYPE)) {
  window.customCards.push({
    type: CARD_TYPE,
    name: "Grid EMS",
    description: "Grid power against the grid operator's limits, emergency stops, the RTU link, battery and relays.",
    preview: true,
  });
}
