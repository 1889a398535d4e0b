// The plates of a sliced package (a .gcode.3mf has one per sliced plate): each plate's preview
// and the lines a person reads before printing it. A file with one plate shows none of this:
// its plate is the file.
import type { FileRead } from '../../api/types'
import { glance } from './metadata'

type Plate = FileRead['plates'][number]

function PlatePreview({ plate, name }: { plate: Plate; name: string }) {
  const thumb = [...plate.thumbnails].sort((a, b) => b.width - a.width)[0]
  if (!thumb) return <div className="thumb placeholder" aria-hidden="true">No preview</div>
  return <img className="thumb" src={thumb.url} alt={`Preview of plate ${plate.index} of ${name}`} loading="lazy" width={thumb.width} height={thumb.height} />
}

export function Plates({ file }: { file: FileRead }) {
  if (file.plates.length < 2) return null
  return (
    <section className="stack" aria-labelledby="plates-title">
      <h2 id="plates-title" className="h3">Plates ({file.plates.length})</h2>
      <ol className="plain-list plate-list">
        {file.plates.map((plate) => (
          <li key={plate.index} className="plate" aria-label={`Plate ${plate.index}`}>
            <PlatePreview plate={plate} name={file.name} />
            <div className="stack">
              <h3 className="h4">Plate {plate.index}</h3>
              <dl className="meta">
                {glance(plate.metadata).map((row) => <div key={row.key}><dt>{row.label}</dt><dd>{row.value}</dd></div>)}
              </dl>
            </div>
          </li>
        ))}
      </ol>
    </section>
  )
}

/** Which plate "Send to printer" prints: a choice only when there is one to make. */
export function PlatePicker({ file, plate, onChange }: { file: FileRead; plate: number; onChange: (plate: number) => void }) {
  if (file.plates.length < 2) return null
  return (
    <>
      <label htmlFor="print-plate" className="sr-only">Plate</label>
      <select id="print-plate" value={plate} onChange={(e) => onChange(Number(e.target.value))}>
        {file.plates.map((p) => <option key={p.index} value={p.index}>Plate {p.index}</option>)}
      </select>
    </>
  )
}
