import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'
import { NavLink, Outlet, useNavigate } from 'react-router'
import { sessionApi, useMe } from '../api/session'
import { UploadsProvider } from '../uploads/UploadsProvider'
import { UploadTray } from '../uploads/UploadTray'
import { ErrorBoundary } from './ErrorBoundary'
import { ThemeToggle } from './ThemeToggle'

type NavItem = { to: string; label: string; end?: boolean }

const links: NavItem[] = [
  { to: '/', label: 'Library', end: true },
  { to: '/upload', label: 'Upload' },
  { to: '/printers', label: 'Printers' },
  { to: '/status', label: 'System' },
  { to: '/api-keys', label: 'API keys' },
]
const adminLinks: NavItem[] = [
  { to: '/backups', label: 'Backups' },
  { to: '/users', label: 'Users' },
]

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))

/** `/` jumps to the library search from any page, as on GitHub or Mainsail's file list. */
function useSearchShortcut() {
  const navigate = useNavigate()
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return
      event.preventDefault()
      const search = document.getElementById('library-search')
      if (search) search.focus()
      else navigate('/', { state: { focusSearch: true } })
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [navigate])
}

export function Layout() {
  const me = useMe()
  const client = useQueryClient()
  const navigate = useNavigate()
  useSearchShortcut()
  const logout = useMutation({
    mutationFn: sessionApi.logout,
    onSettled: () => {
      client.clear()
      navigate('/login', { replace: true })
    },
  })
  const isAdmin = me.data?.role === 'admin'
  return (
    <UploadsProvider>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="PrintStash home">PrintStash</NavLink>
        <nav aria-label="Main">
          {[...links, ...(isAdmin ? adminLinks : [])].map((link) => (
            <NavLink key={link.to} to={link.to} end={link.end}>{link.label}</NavLink>
          ))}
        </nav>
        <div className="account">
          <ThemeToggle />
          <NavLink to="/account" className="muted" aria-label={`Your account (${me.data?.username ?? ''})`}>{me.data?.username}</NavLink>
          <button type="button" className="link" onClick={() => logout.mutate()} disabled={logout.isPending}>Sign out</button>
        </div>
      </header>
      <main id="main" className="content">
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
      <UploadTray />
    </UploadsProvider>
  )
}
