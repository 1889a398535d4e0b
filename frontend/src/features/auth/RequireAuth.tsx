import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'
import { ErrorMessage, Loading } from '../../components/Status'
import { useAuthStatus, useMe } from '../../api/session'

/** Pages behind sign-in: unconfigured vault -> setup wizard, signed out -> sign-in. */
export function RequireAuth({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const status = useAuthStatus()
  const me = useMe()
  const location = useLocation()
  if (status.isPending || me.isPending) return <Loading />
  if (status.error || me.error) return <ErrorMessage error={status.error ?? me.error} title="Cannot reach the server" />
  if (status.data && !status.data.configured) return <Navigate to="/setup" replace />
  if (!me.data) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />
  if (admin && me.data.role !== 'admin') {
    return <div role="alert" className="message error">This page is for administrators.</div>
  }
  return <>{children}</>
}
