import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// The api the dev and preview servers proxy to; the e2e tests point it at a free port.
const api = process.env.PRINTSTASH_API_URL ?? 'http://127.0.0.1:8000'

// Host is kept as the browser sent it (no changeOrigin) so the api's Origin check for
// cookie-authenticated writes sees the same origin the page was served from.
const proxy = {
  '/api/v1/printers/events': { target: api, changeOrigin: false, timeout: 0, proxyTimeout: 0 },
  '/api/v1': { target: api, changeOrigin: false },
  '/api/version': { target: api, changeOrigin: false },
  '/api/files': { target: api, changeOrigin: false },
}
const server = { host: '127.0.0.1', port: 3000, strictPort: true, proxy }

export default defineConfig({
  plugins: [react()],
  server,
  preview: server,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/testSetup.ts'],
  },
})
