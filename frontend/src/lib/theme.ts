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
