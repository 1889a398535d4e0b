import { useMutation, useQueryClient } from '@tanstack/react-query'
import { NavLink, Outlet, useNavigate } from 'react-router'
import { authApi } from '../features/auth/api'
import { useMe } from '../features/auth/useAuth'
import { ErrorBoundary } from './ErrorBoundary'

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

export function Layout() {
  const me = useMe()
  const client = useQueryClient()
  const navigate = useNavigate()
  const logout = useMutation({
    mutationFn: authApi.logout,
    onSettled: () => {
      client.clear()
      navigate('/login', { replace: true })
    },
  })
  const isAdmin = me.data?.role === 'admin'
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="PrintStash home">PrintStash</NavLink>
        <nav aria-label="Main">
          {[...links, ...(isAdmin ? adminLinks : [])].map((link) => (
            <NavLink key={link.to} to={link.to} end={link.end}>{link.label}</NavLink>
          ))}
        </nav>
        <div className="account">
          <NavLink to="/account" className="muted" aria-label={`Your account (${me.data?.username ?? ''})`}>{me.data?.username}</NavLink>
          <button type="button" className="link" onClick={() => logout.mutate()} disabled={logout.isPending}>Sign out</button>
        </div>
      </header>
      <main id="main" className="content">
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </>
  )
}
