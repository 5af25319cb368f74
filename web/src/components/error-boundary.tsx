import { Component, type ReactNode } from 'react';

/**
 * A page that throws while drawing shows what went wrong instead of leaving the console blank;
 * the navigation stays usable, and the next page starts afresh (the layout keys this by address).
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="problem">
        <p className="problem-title"><strong>This page failed to draw</strong> <span className="problem-code">ERR_CONSOLE</span></p>
        <p>{this.state.error.message}</p>
        <p>Other pages still work; reloading this one tries again.</p>
      </div>
    );
  }
}
