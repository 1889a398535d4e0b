import { useEffect, useState } from 'react'
import { chooseTheme, storedTheme, systemTheme, type Theme } from '../lib/theme'

/** Switches between light and dark; until used, the page follows the system setting. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => storedTheme() ?? systemTheme())
  useEffect(() => {
    // Follow the system while the person has not chosen.
    const media = window.matchMedia?.('(prefers-color-scheme: dark)')
    const follow = () => { if (!storedTheme()) setTheme(systemTheme()) }
    media?.addEventListener('change', follow)
    return () => media?.removeEventListener('change', follow)
  }, [])
  const dark = theme === 'dark'
  const toggle = () => {
    const next: Theme = dark ? 'light' : 'dark'
    chooseTheme(next)
    setTheme(next)
  }
  return (
    <button type="button" className="link theme-toggle" aria-pressed={dark} onClick={toggle} aria-label="Dark mode" title="Dark mode">
      <span aria-hidden="true">{dark ? '☾' : '☀'}</span>
    </button>
  )
}
