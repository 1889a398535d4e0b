import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { makeQueryClient } from './api/queryClient'
import { prefetchSession } from './api/session'
import { startEarly } from './features/preview/early'
import { mark } from './lib/marks'
import { applyTheme, storedTheme } from './lib/theme'
import './styles.css'

mark('bundle')
applyTheme(storedTheme()) // before the first paint: no flash of the other theme
// The first requests go out now, side by side, not one after another as pages render. A
// preview's layers go first: the browser dispatches requests in the order they are made, and
// its layers are what that page waits for longest (the sign-in check answers quickest).
const client = makeQueryClient()
startEarly(window.location)
prefetchSession(client)

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
)
