import { useQuery } from '@tanstack/react-query'
import { lazy, Suspense } from 'react'
import { Link, useParams } from 'react-router'
import { MODEL_KINDS, fileKeys, filesApi } from '../../api/files'
import { ErrorMessage, Loading } from '../../components/Status'

// three.js and its loaders (most of this page's code) start loading with the page, beside the
// file's facts.
const view = import('./MeshViewer')
const MeshViewer = lazy(() => view.then((module) => ({ default: module.MeshViewer })))

/** A model's 3D view (STL, OBJ, 3MF): the mesh itself, as the slicer will see it. */
export function ModelPreviewPage() {
  const id = Number(useParams().id)
  const valid = Number.isInteger(id)
  const file = useQuery({ queryKey: fileKeys.one(id), queryFn: () => filesApi.get(id), enabled: valid })
  if (!valid) return <ErrorMessage error="This is not a file address." />
  const data = file.data
  const model = data ? MODEL_KINDS.includes(data.kind) : false
  return (
    <article className="preview-page stack">
      <p><Link to={`/files/${id}`}>← {data?.name ?? 'File'}</Link></p>
      <h1 className="break">3D view{data ? ` of ${data.name}` : ''}</h1>
      <ErrorMessage error={file.error} title="No 3D view" />
      {file.isPending ? <Loading what="Loading the file" /> : null}
      {data && !model ? (
        <p className="muted">This file is sliced G-code, not a model: <Link to={`/files/${id}/preview`}>preview its toolpaths</Link>.</p>
      ) : null}
      {data && model ? (
        <Suspense fallback={<Loading what="Loading the 3D view" />}>
          <MeshViewer key={data.id} file={data} />
        </Suspense>
      ) : null}
    </article>
  )
}
