import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { preferencesApi, preferencesKey } from '../../api/preferences'
import { ErrorMessage, Loading, Notice } from '../../components/Status'

/** Admins choose for everyone: the currency of the filament cost slicers write as a bare number. */
export function LibraryPreferences() {
  const saved = useQuery({ queryKey: preferencesKey, queryFn: preferencesApi.get })
  return (
    <section className="panel stack" aria-labelledby="preferences-title">
      <h2 id="preferences-title" className="h3">Library</h2>
      {saved.isPending ? <Loading what="Loading the library settings" /> : null}
      {saved.data ? <CurrencyForm initial={saved.data.currency ?? ''} /> : null}
      <ErrorMessage error={saved.error} title="Library settings unavailable" />
    </section>
  )
}

function CurrencyForm({ initial }: { initial: string }) {
  const client = useQueryClient()
  const [currency, setCurrency] = useState(initial)
  const save = useMutation({
    mutationFn: () => preferencesApi.set({ currency: currency.trim().toUpperCase() || null }),
    onSuccess: (data) => {
      client.setQueryData(preferencesKey, data)
      setCurrency(data.currency ?? '')
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate()
  }
  return (
    <>
      <form onSubmit={submit} className="form-grid">
        <label htmlFor="currency">Currency of filament costs</label>
        <input id="currency" value={currency} onChange={(e) => { save.reset(); setCurrency(e.target.value) }} maxLength={3}
          placeholder="EUR" autoComplete="off" spellCheck={false} aria-describedby="currency-hint" />
        <div />
        <div><button type="submit" disabled={save.isPending}>Save</button></div>
      </form>
      <p id="currency-hint" className="muted">A three-letter code (EUR, USD, GBP, …). Slicers write costs without one; empty shows bare numbers.</p>
      {save.isSuccess ? <Notice>Saved: costs show {save.data.currency ?? 'as bare numbers'}.</Notice> : null}
      <ErrorMessage error={save.error} title="Not saved" />
    </>
  )
}
