import { useQuery } from '@tanstack/react-query'
import { lazy, Suspense } from 'react'
import { Link, useParams } from 'react-router'
import { printerKeys, printersApi } from '../../api/printers'
import { ErrorMessage, Loading } from '../../components/Status'
import { previewApi, previewKeys } from './api'

// three.js (most of this page's code) starts loading with the page, beside the layer index,
// instead of holding the page (and so the index request) back until it has arrived.
const view = import('./Toolpaths')
const Toolpaths = lazy(() => view.then((module) => ({ default: module.Toolpaths })))

const FOLLOW_MS = 2_000

/** A printer's print, layer by layer: the preview of the file it prints, held at the layer
 * Moonraker reports (`print_stats.info.current_layer`, 1-based, as the status's layer.current). */
export function PrinterPreviewPage() {
  const id = Number(useParams().id)
  const printer = useQuery({ queryKey: printerKeys.one(id), queryFn: () => printersApi.get(id), refetchInterval: FOLLOW_MS, enabled: Number.isInteger(id) })
  const fileId = printer.data?.status?.file_id ?? null
  const index = useQuery({ queryKey: previewKeys.index(fileId ?? 0, 1), queryFn: () => previewApi.index(fileId!, 1), enabled: fileId !== null })
  if (!Number.isInteger(id)) return <ErrorMessage error="This is not a printer address." />
  if (printer.isPending) return <Loading what="Loading printer" />
  const layer = printer.data?.status?.layer?.current
  return (
    <article className="preview-page stack">
      <p><Link to={`/printers/${id}`}>← {printer.data?.name ?? 'Printer'}</Link></p>
      <h1 className="break">Printing on {printer.data?.name ?? 'the printer'}</h1>
      <ErrorMessage error={printer.error ?? index.error} title="No preview" />
      {fileId === null && printer.data ? <p className="muted">This printer is not printing a file from the library.</p> : null}
      {index.data && fileId !== null ? (
        <Suspense fallback={<Loading what="Loading the 3D view" />}>
          <Toolpaths key={fileId} fileId={fileId} plate={1} index={index.data} follow={Math.max((layer ?? 1) - 1, 0)} />
        </Suspense>
      ) : null}
    </article>
  )
}
