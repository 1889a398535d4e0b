import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { api, unwrap } from '../../api/client'
import { useMe } from '../../api/session'
import type { User, UserCreate, UserUpdate } from '../../api/types'
import { Badge, ErrorMessage, Loading } from '../../components/Status'
import { formatDate } from '../../lib/format'

const usersKey = ['users'] as const
const usersApi = {
  list: async () => (await unwrap(api.GET('/api/v1/users'))).items,
  create: (body: UserCreate) => unwrap(api.POST('/api/v1/users', { body })),
  update: (id: number, body: UserUpdate) => unwrap(api.PATCH('/api/v1/users/{user_id}', { params: { path: { user_id: id } }, body })),
  remove: (id: number) => unwrap(api.DELETE('/api/v1/users/{user_id}', { params: { path: { user_id: id } } })),
}

function AddUser() {
  const client = useQueryClient()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<User['role']>('member')
  const create = useMutation({
    mutationFn: () => usersApi.create({ username: username.trim(), password, role }),
    onSuccess: async () => {
      setUsername('')
      setPassword('')
      await client.invalidateQueries({ queryKey: usersKey })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate()
  }
  return (
    <form onSubmit={submit} className="panel form-grid" aria-labelledby="add-user">
      <h2 id="add-user" className="h3 span-all">Add a user</h2>
      <label htmlFor="user-name">Username</label>
      <input id="user-name" value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
      <label htmlFor="user-password">Password</label>
      <input id="user-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" />
      <label htmlFor="user-role">Role</label>
      <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as User['role'])}>
        <option value="member">Member (library and printers)</option>
        <option value="admin">Admin (also users, printers, backups)</option>
      </select>
      <div />
      <div><button type="submit" className="primary" disabled={create.isPending}>Add user</button></div>
      <div className="span-all"><ErrorMessage error={create.error} title="User not added" /></div>
    </form>
  )
}

function UserRow({ user, self }: { user: User; self: boolean }) {
  const client = useQueryClient()
  const done = () => client.invalidateQueries({ queryKey: usersKey })
  const update = useMutation({ mutationFn: (body: UserUpdate) => usersApi.update(user.id, body), onSettled: done })
  const remove = useMutation({ mutationFn: () => usersApi.remove(user.id), onSettled: done })
  const resetPassword = () => {
    const password = window.prompt(`New password for ${user.username}`)
    if (password) update.mutate({ password })
  }
  return (
    <tr>
      <td>{user.username}{self ? ' (you)' : ''}</td>
      <td data-label="Role"><Badge status={user.role === 'admin' ? 'admin' : 'member'} label={user.role} /></td>
      <td data-label="State">{user.disabled ? <Badge status="error" label="disabled" /> : 'active'}</td>
      <td data-label="Created">{formatDate(user.created_at)}</td>
      <td className="actions">
        <button type="button" disabled={self} onClick={() => update.mutate({ role: user.role === 'admin' ? 'member' : 'admin' })}>{user.role === 'admin' ? 'Make member' : 'Make admin'}</button>
        <button type="button" disabled={self} onClick={() => update.mutate({ disabled: !user.disabled })}>{user.disabled ? 'Enable' : 'Disable'}</button>
        <button type="button" onClick={resetPassword}>Reset password</button>
        <button type="button" className="danger" disabled={self} onClick={() => { if (window.confirm(`Delete ${user.username}?`)) remove.mutate() }}>Delete</button>
        <ErrorMessage error={update.error ?? remove.error} />
      </td>
    </tr>
  )
}

export function UsersPage() {
  const users = useQuery({ queryKey: usersKey, queryFn: usersApi.list })
  const me = useMe()
  return (
    <div className="stack">
      <h1>Users</h1>
      <AddUser />
      <ErrorMessage error={users.error} title="Could not load users" />
      {users.isPending ? <Loading what="Loading users" /> : null}
      {users.data?.length ? (
        <div className="table-wrap">
          <table aria-label="Users" className="responsive">
            <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>{users.data.map((user) => <UserRow key={user.id} user={user} self={user.id === me.data?.id} />)}</tbody>
          </table>
        </div>
      ) : null}
    </div>
  )
}
