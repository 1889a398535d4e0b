import { afterEach, describe, expect, it } from 'vitest'
import { applyTheme, chooseTheme, shownTheme, watchTheme } from './theme'

afterEach(() => {
  localStorage.clear()
  applyTheme(null)
})

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('watchTheme', () => {
  it('tells each theme the toggle chooses, until stopped', async () => {
    const told: string[] = []
    const stop = watchTheme((theme) => told.push(theme))
    chooseTheme('dark')
    await settle()
    chooseTheme('light')
    await settle()
    stop()
    chooseTheme('dark')
    await settle()
    expect(told).toEqual(['dark', 'light'])
    expect(shownTheme()).toBe('dark')
  })
})
