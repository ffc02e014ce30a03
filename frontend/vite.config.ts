// Builds the card into the one committed bundle the integration serves (frontend.py).
import { defineConfig } from "vitest/config";

export default defineConfig({
  build: {
    lib: {
      entry: "src/index.ts",
      formats: ["es"],
      fileName: () => "grid-ems-card.js",
    },
    outDir: "../custom_components/grid_ems/dist",
    // The folder holds only the bundle; emptying it keeps stale chunks out.
    emptyOutDir: true,
    target: "es2022",
    minify: true,
    sourcemap: false,
    reportCompressedSize: false,
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
  },
});
