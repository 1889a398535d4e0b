type Props = { total: number; limit: number; offset: number; onOffset: (offset: number) => void }

export function Pagination({ total, limit, offset, onOffset }: Props) {
  if (total <= limit) return null
  const page = Math.floor(offset / limit) + 1
  const pages = Math.ceil(total / limit)
  return (
    <nav className="pagination" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onOffset(Math.max(0, offset - limit))}>← Previous</button>
      <span aria-live="polite">Page {page} of {pages}</span>
      <button type="button" disabled={page >= pages} onClick={() => onOffset(offset + limit)}>Next →</button>
    </nav>
  )
}
