import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { ComponentCard } from './StatusPage'

afterEach(cleanup)

describe('ComponentCard', () => {
  it('names the component and its status and details', () => {
    render(<ComponentCard name="printer_providers" component={{ status: 'degraded', offline: 1, heartbeat_age_s: 3 }} />)
    expect(screen.getByRole('heading').textContent).toBe('Printer providers')
    expect(screen.getByText('degraded')).toBeTruthy()
    expect(screen.getByText('Worker last seen')).toBeTruthy()
    expect(screen.getByText('3s ago')).toBeTruthy()
  })
})
