import type { FileRead } from '../api/types'

type Size = 'card' | 'large' | 'small'

/** A file's preview: the largest one up to 400 px wide for cards, the largest for `large`,
 * the smallest that is still sharp at list-row size (48 px, twice that on dense screens). */
export function Thumbnail({ file, large = false, size = large ? 'large' : 'card' }: { file: FileRead; large?: boolean; size?: Size }) {
  const thumbs = [...file.thumbnails].sort((a, b) => b.width - a.width)
  const pick = {
    large: () => thumbs[0],
    card: () => thumbs.find((t) => t.width <= 400) ?? thumbs[0],
    small: () => [...thumbs].reverse().find((t) => t.width >= 96) ?? thumbs[0],
  }[size]
  const thumb = pick()
  const className = size === 'small' ? 'thumb small' : 'thumb'
  if (!thumb) return <div className={`${className} placeholder`} aria-hidden="true">{size === 'small' ? '' : 'No preview'}</div>
  return <img className={className} src={thumb.url} alt={`Preview of ${file.name}`} loading="lazy" width={thumb.width} height={thumb.height} />
}
