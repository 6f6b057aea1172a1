import type { Transport } from '../transport.js'
import type { SecureDial } from './client.js'
import type { TlsCredentials } from './credentials.js'

/**
 * Transports over TLS, one per credentials and expected identity, so a connection verified
 * as one service never carries calls meant for another; closed with their parent.
 */
export class SecureViews<T extends Transport> {
  readonly #make: (secure: SecureDial) => T
  readonly #views = new WeakMap<TlsCredentials, Map<string, T>>()
  readonly #all = new Set<T>()

  constructor(make: (secure: SecureDial) => T) {
    this.#make = make
  }

  /** The view for `credentials` and `expected`, made on first use. */
  get(credentials: TlsCredentials, expected: string): T {
    let byIdentity = this.#views.get(credentials)
    if (byIdentity === undefined) {
      byIdentity = new Map()
      this.#views.set(credentials, byIdentity)
    }
    let view = byIdentity.get(expected)
    if (view === undefined) {
      view = this.#make({ credentials, expected })
      byIdentity.set(expected, view)
      this.#all.add(view)
    }
    return view
  }

  /** Close every view made. */
  async close(): Promise<void> {
    const views = [...this.#all]
    this.#all.clear()
    await Promise.all(views.map((view) => view.close()))
  }
}
