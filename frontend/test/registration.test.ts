import { describe, expect, it } from "vitest";

import { GridEmsCard } from "../src/grid-ems-card";
import "../src/index";

describe("registration", () => {
  it("defines the card again when Home Assistant's polyfill replaced the element registry", async () => {
    const native = window.customElements;
    expect(native.get("grid-ems-card")).toBe(GridEmsCard);
    // Like the scoped registry polyfill: a new window.customElements, then the app's root element.
    const Registry = native.constructor as new (window: Window) => CustomElementRegistry;
    const replacement = new Registry(window);
    Object.defineProperty(window, "customElements", { value: replacement, configurable: true });
    try {
      native.define("home-assistant", class extends HTMLElement {});
      await native.whenDefined("home-assistant");
      await Promise.resolve();
      expect(replacement.get("grid-ems-card")).toBe(GridEmsCard);
      expect(replacement.get("grid-ems-card-editor")).toBeDefined();
    } finally {
      Object.defineProperty(window, "customElements", { value: native, configurable: true });
    }
  });
});
