// Rules about the web app's own source, checked over every file under src/: one api client,
// typed against the schema, and no URL of the api written by hand anywhere else.
import { describe, expect, it } from 'vitest'

// Vite reads the files (as text) at test time: every module of the app, and the api schema.
const modules = import.meta.glob(['/src/**/*.{ts,tsx}', '!/src/**/*.test.{ts,tsx}', '!/src/**/*.d.ts'], { query: '?raw', import: 'default', eager: true })
const schemaText = Object.values(import.meta.glob('/openapi.json', { query: '?raw', import: 'default', eager: true }))[0] as string
const SCHEMA_PATHS = new Set(Object.keys((JSON.parse(schemaText) as { paths: object }).paths))
const files = Object.entries(modules).map(([path, text]) => ({ name: path.replace(/^\/src\//, ''), text: text as string }))

describe('the web app source', () => {
  it('reads the sources', () => {
    expect(files.map((file) => file.name)).toContain('api/client.ts')
    expect(files.length).toBeGreaterThan(30)
  })

  it('names api paths only as schema paths, never as hand-built URLs', () => {
    const wrong: string[] = []
    for (const { name, text } of files) {
      // Every mention of the api prefix must be a whole quoted literal that is a schema path
      // (so the compiler checks the call); template strings and concatenation are not.
      const mentions = text.split('/api/v1').length - 1
      const literals = [...text.matchAll(/'(\/api\/v1[^']*)'/g)].map((match) => match[1])
      wrong.push(...literals.filter((path) => !SCHEMA_PATHS.has(path)).map((path) => `${name}: ${path}`))
      if (literals.length !== mentions) wrong.push(`${name}: ${mentions - literals.length} hand-built /api/v1 URL(s)`)
    }
    expect(wrong).toEqual([])
  })

  it('has one client: no fetch or XMLHttpRequest outside src/api', () => {
    const wrong = files.filter(({ name, text }) => !name.startsWith('api/') && /\bfetch\(|new XMLHttpRequest/.test(text)).map(({ name }) => name)
    expect(wrong).toEqual([])
  })

  it('casts no api answer to a type of its choosing (no get<T>)', () => {
    const wrong = files.filter(({ text }) => /\b(get|post|put|patch|del|request)<[A-Z]/.test(text)).map(({ name }) => name)
    expect(wrong).toEqual([])
  })
})
