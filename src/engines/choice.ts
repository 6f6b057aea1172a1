/**
 * The engines one building block runs on, and how a name (an option, or `MICRO_<BLOCK>`)
 * picks one. An unknown name is refused at once with the known ones listed, so a typo such
 * as `MICRO_STORE=mongo` stops the service at start instead of at its first store call.
 */
export class EngineChoice<N extends string> {
  /** The block, as the error names it: `sync`, `store`, ... */
  readonly block: string
  /** Every name accepted, in the order the error lists them. */
  readonly known: readonly N[]
  /** What no name (or an empty one) means. */
  readonly fallback: N
  readonly #aliases: Readonly<Record<string, N>>

  constructor(block: string, known: readonly N[], fallback: N, aliases: Readonly<Record<string, N>> = {}) {
    this.block = block
    this.known = known
    this.fallback = fallback
    this.#aliases = aliases
  }

  /**
   * The engine `name` stands for (trimmed, any case, aliases resolved); the fallback when
   * it is empty. Throws a TypeError naming the known engines for anything else.
   */
  pick(name: string | undefined): N {
    const found = this.#find(name)
    if (found !== undefined) return found
    throw new TypeError(`unknown ${this.block} engine "${name}"; known: ${this.known.join(', ')}`)
  }

  /**
   * The engine the variable names (e.g. `MICRO_SYNC`); when it is unset, `service` if the
   * block has that engine and MICRO_PLATFORM is set, else the fallback. The
   * error starts with the variable and its value: `MICRO_SYNC=etcd: unknown sync engine;
   * known: memory, redis, ...`.
   */
  fromEnv(env: NodeJS.ProcessEnv, variable: string): N {
    const value = env[variable]
    // MICRO_PLATFORM alone moves every block that has a `service` engine onto the platform.
    if (!value?.trim() && env.MICRO_PLATFORM?.trim() && this.#find('service') === 'service')
      return 'service' as N
    const found = this.#find(value)
    if (found !== undefined) return found
    throw new TypeError(`${variable}=${value}: unknown ${this.block} engine; known: ${this.known.join(', ')}`)
  }

  #find(name: string | undefined): N | undefined {
    const chosen = (name ?? '').trim().toLowerCase()
    if (chosen === '') return this.fallback
    if ((this.known as readonly string[]).includes(chosen)) return chosen as N
    return Object.hasOwn(this.#aliases, chosen) ? this.#aliases[chosen] : undefined
  }
}
