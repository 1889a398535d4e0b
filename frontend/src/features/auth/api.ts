import { get, post } from '../../api/client'
import type { User } from '../../api/types'

export type AuthStatus = { configured: boolean }

export const authApi = {
  status: () => get<AuthStatus>('/auth/status'),
  me: () => get<User>('/auth/me'),
  setup: (body: { setup_token: string; username: string; password: string }) => post<User>('/auth/setup', body),
  login: (body: { username: string; password: string; remember: boolean }) => post<User>('/auth/login', body),
  logout: () => post<unknown>('/auth/logout'),
}
