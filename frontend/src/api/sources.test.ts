// Rules about the web app's own source, checked over every file under src/: one api client,
// typed against the schema, and no URL of the api written by hand anywhere else.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = join(__dirname, '..')
const SCHEMA_PATHS = new Set(Object.keys((JSON.parse(readFileSync(join(SRC, '..', 'openapi.json'), 'utf8')) as { paths: object }).paths))

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.test.tsx') ? [path] : []
  })
}

const files = sources(SRC).map((path) => ({ name: relative(SRC, path), text: readFileSync(path, 'utf8') }))

describe('the web app source', () => {
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
