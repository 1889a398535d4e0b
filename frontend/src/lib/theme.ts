// Light or dark: the system setting unless the person chose one with the toggle (kept in
// localStorage). The choice is a data-theme attribute on <html>; styles.css picks colours
// with light-dark(), which follows the color-scheme that attribute sets.
export type Theme = 'light' | 'dark'
const KEY = 'printstash-theme'

export function storedTheme(): Theme | null {
  const value = localStorage.getItem(KEY)
  return value === 'light' || value === 'dark' ? value : null
}

export function systemTheme(): Theme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export function applyTheme(theme: Theme | null): void {
  if (theme) document.documentElement.dataset.theme = theme
  else delete document.documentElement.dataset.theme
}

export function chooseTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme)
  applyTheme(theme)
}

/** The theme the page shows now: the one chosen with the toggle, else the system's. */
export function shownTheme(): Theme {
  const chosen = document.documentElement.dataset.theme
  return chosen === 'light' || chosen === 'dark' ? chosen : systemTheme()
}

/** Tell `changed` the shown theme whenever the toggle or the system may have changed it (for
 * what CSS cannot colour, such as a WebGL drawing). Returns the function that stops it. */
export function watchTheme(changed: (theme: Theme) => void): () => void {
  const tell = () => changed(shownTheme())
  const toggle = new MutationObserver(tell)
  toggle.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
  const media = window.matchMedia?.('(prefers-color-scheme: dark)')
  media?.addEventListener('change', tell)
  return () => {
    toggle.disconnect()
    media?.removeEventListener('change', tell)
  }
}
