import { isRouteErrorResponse, useRouteError } from 'react-router'

/** What the router shows when a page fails outside the layout's own error boundary. */
export function RouteError() {
  const error = useRouteError()
  const message = isRouteErrorResponse(error)
    ? (error.status === 404 ? 'This page does not exist.' : `${error.status} ${error.statusText}`)
    : error instanceof Error ? error.message : 'An unexpected error happened.'
  return (
    <main className="auth-page">
      <div role="alert" className="panel error-page">
        <h1>Something went wrong</h1>
        <p>{message}</p>
        <p><a href="/">Back to PrintStash</a></p>
      </div>
    </main>
  )
}
