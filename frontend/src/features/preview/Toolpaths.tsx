import { useEffect, useRef, useState, type KeyboardEvent } from 'react'
import type { LayersRead } from '../../api/types'
import { mark } from '../../lib/marks'
import { layerSegments } from './early'
import { layerAfterKey } from './keys'
import { LayerLoader } from './loader'
import { TRAVEL, cssColour, featureColour } from './palette'
import type { LayerSegments } from './records'
import { ToolpathView } from './scene'
import { canDraw, NO_WEBGL, viewCanvas } from './stage'

mark('three') // this chunk (three.js with it) has arrived and run

type Loaded = { layers: ReadonlyMap<number, LayerSegments>; pending: number; error: unknown }

/** The 3D view, its layer slider, the travel switch and the legend of one plate's toolpaths. */
export function Toolpaths({ fileId, plate, index, follow }: { fileId: number; plate: number; index: LayersRead; follow?: number }) {
  const last = Math.max(index.count - 1, 0)
  const [chosen, setChosen] = useState(0)
  const current = Math.min(follow ?? chosen, last)
  const [travels, setTravels] = useState(false)
  const [loaded, setLoaded] = useState<Loaded>({ layers: new Map(), pending: 0, error: null })
  const holder = useRef<HTMLDivElement>(null)
  const parts = useRef<{ view: ToolpathView; loader: LayerLoader } | null>(null)

  useEffect(() => {
    // The canvas is made here, not by React: each mount gets a fresh WebGL context that
    // dispose() can give back (a lost context cannot be used again on the same canvas).
    if (!holder.current) return // nothing to draw (no WebGL, or a plate without layers)
    const canvas = viewCanvas()
    canvas.setAttribute('role', 'img')
    canvas.setAttribute('aria-label', 'Toolpaths: drag to turn, pinch or scroll to zoom')
    holder.current.append(canvas)
    const view = new ToolpathView(canvas, (layer) => {
      canvas.dataset.drawnLayer = String(layer)
      mark('drawn')
    })
    mark('webgl')
    view.setFeatures(index.features)
    const loader: LayerLoader = new LayerLoader((layer, signal) => layerSegments(fileId, plate, layer, signal),
      () => setLoaded({ layers: new Map(loader.layers), pending: loader.pending, error: loader.error }))
    parts.current = { view, loader }
    return () => {
      parts.current = null
      loader.close()
      view.dispose()
      canvas.remove()
    }
  }, [fileId, plate, index])

  useEffect(() => parts.current?.loader.show(current), [current, index])
  useEffect(() => {
    parts.current?.view.sync(loaded.layers, { current, travels }, index.layers[last]?.z ?? 0)
  }, [loaded, current, travels, index, last])

  const onKey = (event: KeyboardEvent) => {
    const next = layerAfterKey(event.key, current, last)
    if (next === null) return
    event.preventDefault()
    setChosen(next)
  }
  const seen = new Set([...loaded.layers.values()].flatMap((layer) => layer.codes))
  const z = index.layers[current]?.z
  if (!index.count) return <p className="muted">This plate has no layers to show.</p>
  if (!canDraw()) return <div role="alert" className="message error">{NO_WEBGL}</div>
  return (
    <section className="toolpaths stack" aria-label="Toolpath preview">
      <div className="preview-canvas" ref={holder} />
      <div className="preview-controls">
        <label htmlFor="preview-layer">Layer <strong>{current + 1}</strong> of {index.count}{z === undefined ? '' : ` · Z ${z.toFixed(2)} mm`}</label>
        <input id="preview-layer" type="range" min={0} max={last} step={1} value={current} disabled={follow !== undefined}
          aria-valuetext={`Layer ${current + 1} of ${index.count}`} onKeyDown={onKey} onChange={(e) => setChosen(Number(e.target.value))} />
        <div className="inline">
          <label className="inline"><input type="checkbox" checked={travels} onChange={(e) => setTravels(e.target.checked)} /> Show travel moves</label>
          <span className="muted small preview-pending" aria-live="polite">{loaded.pending ? `Loading ${loaded.pending} layers…` : ''}</span>
        </div>
      </div>
      {loaded.error ? <div role="alert" className="message error">Some layers could not be loaded: {loaded.error instanceof Error ? loaded.error.message : String(loaded.error)}</div> : null}
      <ul className="legend" aria-label="Feature types">
        {index.features.map((name, code) => seen.has(code) ? (
          <li key={name}><span className="swatch" style={{ background: cssColour(featureColour(name)) }} aria-hidden="true" />{name}</li>
        ) : null)}
        {travels ? <li><span className="swatch" style={{ background: cssColour(TRAVEL) }} aria-hidden="true" />Travel</li> : null}
      </ul>
    </section>
  )
}
