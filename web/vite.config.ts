import { defineConfig } from "vite";

// The API server serves dist/ at "/" (src/hyper_registry/web). `npm run dev` proxies the
// API to a server on 127.0.0.1:8080 so the UI can be developed with hot reload.
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  worker: { format: "es" },
  server: {
    proxy: {
      "/v1": { target: "http://127.0.0.1:8080", changeOrigin: false },
      "/healthz": "http://127.0.0.1:8080",
    },
  },
});
