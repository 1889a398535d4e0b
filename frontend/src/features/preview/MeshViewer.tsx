import { useEffect, useRef, useState } from 'react'
import type { FileRead } from '../../api/types'
import { formatBytes } from '../../lib/format'
import { shownTheme, watchTheme } from '../../lib/theme'
import { previewApi } from './api'
import { percent, readAll } from './download'
import { MAX_VIEW_BYTES, readMesh, type ModelKind } from './mesh'
import { MeshView } from './meshScene'
import { canDraw, NO_WEBGL } from './stage'

type Step =
  | { step: 'downloading'; percent: number }
  | { step: 'reading' }
  | { step: 'shown'; triangles: number; cell: number }
  | { step: 'failed'; error: unknown }

/** Paint what is on the page before the main thread is held by a parse. */
const painted = () => new Promise<void>((done) => requestAnimationFrame(() => setTimeout(done, 0)))

/** Download the model (telling how far), read it with three.js's loader and show it. */
async function load(file: FileRead, view: MeshView, signal: AbortSignal, report: (step: Step) => void): Promise<void> {
  let shown = -1
  try {
    const body = await previewApi.model(file.id, signal)
    const bytes = await readAll(body, file.size, (received) => {
      const now = percent(received, file.size)
      if (now === shown) return // a render per whole percent, not per chunk
      shown = now
      report({ step: 'downloading', percent: now })
    })
    report({ step: 'reading' })
    await painted()
    if (signal.aborted) return
    const mesh = readMesh(file.kind as ModelKind, bytes)
    const { cell } = view.show(mesh.object)
    report({ step: 'shown', triangles: mesh.triangles, cell })
  } catch (error) {
    if (!signal.aborted) report({ step: 'failed', error })
  }
}

function Progress({ state, file }: { state: Step; file: FileRead }) {
  if (state.step === 'downloading') {
    return (
      <p className="mesh-progress muted" role="status">
        <progress max={100} value={state.percent} aria-label="Downloading the model" />
        Downloading the model… {state.percent}% of {formatBytes(file.size)}
      </p>
    )
  }
  if (state.step === 'reading') return <p className="mesh-progress muted" role="status">Reading the mesh…</p>
  if (state.step === 'failed') {
    const message = state.error instanceof Error ? state.error.message : String(state.error)
    return <div role="alert" className="message error">This model cannot be shown: {message}</div>
  }
  return (
    <p className="muted small mesh-facts">
      {state.triangles.toLocaleString('en')} triangles · grid squares of {state.cell} mm · drag to turn, pinch or scroll to zoom
    </p>
  )
}

/** A model (STL, OBJ, 3MF) in 3D: turned and zoomed by mouse or touch, on a grid for scale. */
export function MeshViewer({ file }: { file: FileRead }) {
  const holder = useRef<HTMLDivElement>(null)
  const [state, setState] = useState<Step>({ step: 'downloading', percent: 0 })
  const tooLarge = file.size > MAX_VIEW_BYTES

  useEffect(() => {
    // The canvas is made here, not by React: each mount gets a fresh WebGL context that
    // dispose() can give back (as in Toolpaths.tsx).
    if (!holder.current || tooLarge) return
    const canvas = document.createElement('canvas')
    canvas.setAttribute('role', 'img')
    canvas.setAttribute('aria-label', `${file.name} in 3D: drag to turn, pinch or scroll to zoom`)
    holder.current.append(canvas)
    const view = new MeshView(canvas, () => { canvas.dataset.drawn = 'model' })
    view.setTheme(shownTheme())
    const unwatch = watchTheme((theme) => view.setTheme(theme))
    const request = new AbortController()
    void load(file, view, request.signal, setState)
    return () => {
      request.abort()
      unwatch()
      view.dispose()
      canvas.remove()
    }
  }, [file, tooLarge])

  if (tooLarge) {
    return (
      <p className="muted">
        This model is {formatBytes(file.size)}: too large to view in the browser (at most {formatBytes(MAX_VIEW_BYTES)}).
        Download it and open it in your slicer.
      </p>
    )
  }
  if (!canDraw()) return <div role="alert" className="message error">{NO_WEBGL}</div>
  return (
    <section className="mesh-viewer stack" aria-label="Model viewer">
      <div className="preview-canvas" ref={holder} />
      <Progress state={state} file={file} />
    </section>
  )
}
