import { QueryClientProvider, type QueryClient } from '@tanstack/react-query'
import { createBrowserRouter, RouterProvider } from 'react-router'
import { makeQueryClient } from './api/queryClient'
import { ErrorBoundary } from './components/ErrorBoundary'
import { Layout } from './components/Layout'
import { RouteError } from './components/RouteError'
import { ApiKeysPage } from './features/apikeys/ApiKeysPage'
import { AccountPage } from './features/auth/AccountPage'
import { LoginPage } from './features/auth/LoginPage'
import { RequireAuth } from './features/auth/RequireAuth'
import { SetupPage } from './features/auth/SetupPage'
import { BackupsPage } from './features/backups/BackupsPage'
import { FileDetailPage } from './features/library/FileDetailPage'
import { LibraryPage } from './features/library/LibraryPage'
import { TagsPage } from './features/library/TagsPage'
import { TrashPage } from './features/library/TrashPage'
import { PrinterDetailPage } from './features/printers/PrinterDetailPage'
import { PrintersPage } from './features/printers/PrintersPage'
import { StatusPage } from './features/system/StatusPage'
import { UploadPage } from './features/upload/UploadPage'
import { UsersPage } from './features/users/UsersPage'

function NotFound() {
  return (
    <div className="panel">
      <h1>Page not found</h1>
      <p><a href="/">Back to the library</a></p>
    </div>
  )
}

const router = createBrowserRouter([
  { path: '/setup', element: <SetupPage />, errorElement: <RouteError /> },
  { path: '/login', element: <LoginPage />, errorElement: <RouteError /> },
  {
    element: <RequireAuth><Layout /></RequireAuth>,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <LibraryPage /> },
      { path: 'files/:id', element: <FileDetailPage /> },
      // three.js is loaded only when a preview opens: the other pages stay as light as they were.
      { path: 'files/:id/preview', lazy: async () => ({ Component: (await import('./features/preview/FilePreviewPage')).FilePreviewPage }) },
      { path: 'files/:id/model', lazy: async () => ({ Component: (await import('./features/preview/ModelPreviewPage')).ModelPreviewPage }) },
      { path: 'trash', element: <TrashPage /> },
      { path: 'tags', element: <TagsPage /> },
      { path: 'upload', element: <UploadPage /> },
      { path: 'printers', element: <PrintersPage /> },
      { path: 'printers/:id', element: <PrinterDetailPage /> },
      { path: 'printers/:id/preview', lazy: async () => ({ Component: (await import('./features/preview/PrinterPreviewPage')).PrinterPreviewPage }) },
      { path: 'status', element: <StatusPage /> },
      { path: 'api-keys', element: <ApiKeysPage /> },
      { path: 'account', element: <AccountPage /> },
      { path: 'backups', element: <RequireAuth admin><BackupsPage /></RequireAuth> },
      { path: 'users', element: <RequireAuth admin><UsersPage /></RequireAuth> },
      { path: '*', element: <NotFound /> },
    ],
  },
])

export function App({ client = makeQueryClient() }: { client?: QueryClient }) {
  return (
    <ErrorBoundary>
      <QueryClientProvider client={client}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </ErrorBoundary>
  )
}
