import type { ConfigObject } from './tree.js'

/** Stops a source's watch; releases its timers and file handles. */
export type Unwatch = () => void

/**
 * Where config comes from: environment, a file, flags, memory, a key/value store. The
 * loader merges what each source reads, in order, later sources winning.
 */
export interface Source {
  /** Names the source in logs and errors, e.g. `file:/etc/shop/config.yaml`. */
  readonly name: string
  /**
   * The source's whole config now, as a fresh tree the caller may keep. Throws (a
   * MicroError naming the source) when it cannot be read or parsed; the loader then keeps
   * this source's previous values.
   */
  read(): ConfigObject | Promise<ConfigObject>
  /**
   * Optional: call `onChange` whenever the source may have changed (the loader re-reads it
   * and compares, so extra calls are harmless), and `onError` when watching itself fails.
   */
  watch?(onChange: () => void, onError: (error: unknown) => void): Unwatch
}
