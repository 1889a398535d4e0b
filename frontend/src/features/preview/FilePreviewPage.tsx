import { useQuery } from '@tanstack/react-query'
import { lazy, Suspense } from 'react'
import { Link, useParams, useSearchParams } from 'react-router'
import { fileKeys, filesApi } from '../../api/files'
import { ErrorMessage, Loading } from '../../components/Status'
import { previewKeys } from './api'
import { layerIndex } from './early'

// three.js (most of this page's code) starts loading with the page, beside the layer index,
// instead of holding the page (and so the index request) back until it has arrived.
const view = import('./Toolpaths')
const Toolpaths = lazy(() => view.then((module) => ({ default: module.Toolpaths })))

/** The toolpath preview of a sliced file's plate (`?plate=N`, 1 unless chosen). */
export function FilePreviewPage() {
  const id = Number(useParams().id)
  const [search] = useSearchParams()
  const plate = Number(search.get('plate') ?? '1')
  const valid = Number.isInteger(id) && Number.isInteger(plate) && plate >= 1
  const file = useQuery({ queryKey: fileKeys.one(id), queryFn: () => filesApi.get(id), enabled: valid })
  const index = useQuery({ queryKey: previewKeys.index(id, plate), queryFn: () => layerIndex(id, plate), enabled: valid })
  if (!valid) return <ErrorMessage error="This is not a preview address." />
  const plates = file.data?.plates ?? []
  return (
    <article className="preview-page stack">
      <p><Link to={`/files/${id}`}>← {file.data?.name ?? 'File'}</Link></p>
      <h1 className="break">Preview{file.data ? ` of ${file.data.name}` : ''}</h1>
      {plates.length > 1 ? (
        <nav aria-label="Plates" className="inline">
          {plates.map((p) => (
            <Link key={p.index} to={`?plate=${p.index}`} className={p.index === plate ? 'button primary' : 'button'}
              aria-current={p.index === plate ? 'page' : undefined}>Plate {p.index}</Link>
          ))}
        </nav>
      ) : null}
      <ErrorMessage error={file.error ?? index.error} title="No preview" />
      {index.isPending ? <Loading what="Loading the layers" /> : null}
      {index.data ? (
        <Suspense fallback={<Loading what="Loading the 3D view" />}>
          <Toolpaths key={`${id}/${plate}`} fileId={id} plate={plate} index={index.data} />
        </Suspense>
      ) : null}
    </article>
  )
}
