import { Component, type ErrorInfo, type ReactNode } from 'react'

type Props = { children: ReactNode }
type State = { error: Error | null }

/** Never a blank page: a render failure anywhere below shows what happened in words. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null }

  static getDerivedStateFromError(error: Error): State {
    return { error }
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('PrintStash page failed', error, info.componentStack)
  }

  render(): ReactNode {
    if (!this.state.error) return this.props.children
    return (
      <div role="alert" className="panel error-page">
        <h1>Something went wrong on this page</h1>
        <p>{this.state.error.message || 'An unexpected error happened.'}</p>
        <p>
          <button type="button" onClick={() => this.setState({ error: null })}>Try again</button>{' '}
          <a href="/">Back to the library</a>
        </p>
      </div>
    )
  }
}
