import type { FileRead } from '../api/types'

/** A file's preview: the largest one up to 400 px wide for cards, the largest for `large`. */
export function Thumbnail({ file, large = false }: { file: FileRead; large?: boolean }) {
  const thumbs = [...file.thumbnails].sort((a, b) => b.width - a.width)
  const thumb = large ? thumbs[0] : (thumbs.find((t) => t.width <= 400) ?? thumbs[0])
  if (!thumb) return <div className="thumb placeholder" aria-hidden="true">No preview</div>
  return <img className="thumb" src={thumb.url} alt={`Preview of ${file.name}`} loading="lazy" width={thumb.width} height={thumb.height} />
}
