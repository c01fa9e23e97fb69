// The browser client: React 18 + Yjs, built into dist/ and served by `jacameno serve` at /.
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";
import { VitePWA } from "vite-plugin-pwa";

const backend = process.env.JACAMENO_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      // The page asks the user before it swaps in a new version (no reload mid-edit).
      registerType: "prompt",
      injectRegister: null,
      manifest: {
        name: "JACAMENO studio",
        short_name: "JACAMENO",
        description: "Make a song together, online or offline.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        background_color: "#111318",
        theme_color: "#111318",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
      workbox: {
        // The app shell (every built file) is precached; any client route opens it offline.
        globPatterns: ["**/*.{js,css,html,svg,png,webmanifest}"],
        navigateFallback: "/index.html",
        // Take over the open page at once, so the audio it plays is cached for offline use.
        clientsClaim: true,
        navigateFallbackDenylist: [/^\/api\//, /^\/collab\//, /^\/graphql/, /^\/openapi\.json/, /^\/healthz/, /^\/readyz/, /^\/metrics/],
        runtimeCaching: [
          {
            // Audio already heard and its peaks: immutable per asset id, so cache first.
            urlPattern: ({ url }) => /^\/api\/v1\/assets\/[^/]+\/(content|waveform)$/.test(url.pathname),
            handler: "CacheFirst",
            options: {
              cacheName: "jacameno-audio",
              expiration: { maxEntries: 400, maxAgeSeconds: 60 * 60 * 24 * 60 },
              cacheableResponse: { statuses: [200] },
            },
          },
          {
            // The plugin catalog changes only with a deploy: fresh when online, cached offline.
            urlPattern: ({ url }) => url.pathname === "/api/v1/vst/plugins",
            handler: "NetworkFirst",
            options: { cacheName: "jacameno-catalog", networkTimeoutSeconds: 3 },
          },
        ],
      },
    }),
  ],
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      "/api": backend,
      "/collab": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
