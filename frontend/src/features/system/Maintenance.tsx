import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, unwrap } from '../../api/client'
import { healthKey } from '../../api/health'
import { ErrorMessage } from '../../components/Status'
import { formatAge } from '../../lib/format'

const key = ['maintenance'] as const

/** Admins pause uploads and scheduled jobs here (the upgrade guide's first step). */
export function Maintenance() {
  const client = useQueryClient()
  const state = useQuery({ queryKey: key, queryFn: () => unwrap(api.GET('/api/v1/maintenance')) })
  const toggle = useMutation({
    mutationFn: (on: boolean) => unwrap(api.PUT('/api/v1/maintenance', { body: { on, message: on ? 'Maintenance mode (switched on in the web app)' : '' } })),
    onSuccess: async (data) => {
      client.setQueryData(key, data)
      await client.invalidateQueries({ queryKey: healthKey })
    },
  })
  const on = state.data?.on ?? false
  return (
    <section className="panel stack" aria-labelledby="maintenance-title">
      <h2 id="maintenance-title" className="h3">Maintenance mode</h2>
      <p>
        {on ? `On since ${formatAge(state.data?.since)}: uploads answer "try later" and scheduled jobs wait.` : 'Off: uploads and scheduled jobs run normally.'}
      </p>
      <div>
        <button type="button" className={on ? 'primary' : ''} disabled={state.isPending || toggle.isPending} onClick={() => toggle.mutate(!on)}>
          {on ? 'Turn maintenance mode off' : 'Turn maintenance mode on'}
        </button>
      </div>
      <ErrorMessage error={state.error ?? toggle.error} title="Maintenance" />
    </section>
  )
}
