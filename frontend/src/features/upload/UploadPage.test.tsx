import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { MemoryRouter } from 'react-router'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { UploadsProvider } from '../../uploads/UploadsProvider'
import { UploadPage } from './UploadPage'

// A stand-in for the network only: XMLHttpRequest answering like the api does.
type Answer = { status: number; body: unknown }
const answers = new Map<string, Answer>()

class FakeXhr {
  status = 0
  responseText = ''
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  withCredentials = false
  open() {}
  setRequestHeader() {}
  abort() {}
  send(form: FormData) {
    const file = form.get('file') as File
    const answer = answers.get(file.name) ?? { status: 201, body: { id: 1, name: file.name } }
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: file.size, total: file.size })
      this.status = answer.status
      this.responseText = JSON.stringify(answer.body)
      this.onload?.()
    }, 5)
  }
}

beforeEach(() => {
  answers.clear()
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
})
afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

function renderPage() {
  const client = new QueryClient()
  render(<QueryClientProvider client={client}><MemoryRouter><UploadsProvider><UploadPage /></UploadsProvider></MemoryRouter></QueryClientProvider>)
}

describe('UploadPage', () => {
  it('uploads every dropped file with its own row and result', async () => {
    answers.set('dup.gcode', { status: 200, body: { id: 4, name: 'dup.gcode', duplicate: true } })
    answers.set('big.gcode', { status: 413, body: { detail: 'larger than 2048 MB', code: 'too_large' } })
    renderPage()
    const files = ['new.gcode', 'dup.gcode', 'big.gcode'].map((name) => new File(['G28\n'], name))
    fireEvent.drop(screen.getByText(/Drop G-code files here/).parentElement!, { dataTransfer: { files } })
    await waitFor(() => expect(screen.getByText('Already in the library')).toBeTruthy(), { timeout: 5000 })
    await waitFor(() => expect(screen.getByText('Uploaded')).toBeTruthy(), { timeout: 5000 })
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Failed: larger than 2048 MB'), { timeout: 5000 })
    expect(screen.getAllByRole('progressbar')).toHaveLength(3)
  })
})
