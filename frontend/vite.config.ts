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

// The built app's security headers, as frontend/nginx.conf sends them (a test compares the
// two). Not on the dev server: its hot reload injects inline scripts.
export const securityHeaders = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
}

export default defineConfig({
  plugins: [react()],
  server,
  preview: { ...server, headers: securityHeaders },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/testSetup.ts'],
  },
})
