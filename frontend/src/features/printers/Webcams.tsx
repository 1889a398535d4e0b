import { useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import type { Printer } from '../../api/types'
import { ErrorMessage } from '../../components/Status'
import { printerAdminApi, type WebcamRead } from './api'

const REFRESH_MS = 2_000

/** A fresh picture every two seconds, fetched by the api from the printer's host (like
 * Mainsail's adaptive MJPEG mode): works wherever the web app does, no stream held open. */
function Camera({ cam }: { cam: WebcamRead }) {
  const [tick, setTick] = useState(0)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    const timer = setInterval(() => { if (!document.hidden) setTick((n) => n + 1) }, REFRESH_MS)
    return () => clearInterval(timer)
  }, [])
  const flips = [cam.flip_horizontal ? 'flip-h' : '', cam.flip_vertical ? 'flip-v' : '', cam.rotation ? `rotate-${cam.rotation}` : ''].join(' ')
  return (
    <figure className="webcam">
      <img className={`webcam-picture ${flips}`} src={`${cam.picture_url}?t=${tick}`} alt={`Webcam ${cam.name}`}
        onError={() => setFailed(true)} onLoad={() => setFailed(false)} />
      <figcaption className="small muted">
        {cam.name}{failed ? ' — no picture right now' : ''}
        {cam.stream_url && /^https?:\/\//.test(cam.stream_url) ? <> · <a href={cam.stream_url} target="_blank" rel="noreferrer">open the stream</a></> : null}
      </figcaption>
    </figure>
  )
}

/** The cameras the printer host lists (Moonraker's webcam list); nothing when it has none. */
export function PrinterWebcams({ printer }: { printer: Printer }) {
  const cams = useQuery({
    queryKey: ['printers', 'webcams', printer.id],
    queryFn: () => printerAdminApi.webcams(printer.id),
    enabled: Boolean(printer.status?.online),
    refetchInterval: 60_000,
  })
  if (!printer.status?.online || (cams.data && !cams.data.length)) return null
  return (
    <section aria-labelledby="printer-webcams" className="panel stack">
      <h2 id="printer-webcams" className="h3">Webcam</h2>
      <ErrorMessage error={cams.error} title="Webcams unavailable" />
      {cams.data?.map((cam) => <Camera key={cam.index} cam={cam} />)}
    </section>
  )
}
