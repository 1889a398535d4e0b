import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { mark } from './lib/marks'
import { applyTheme, storedTheme } from './lib/theme'
import './styles.css'

mark('bundle')
applyTheme(storedTheme()) // before the first paint: no flash of the other theme

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
