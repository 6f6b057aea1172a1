import { badRequest } from '../errors/errors.js'
import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import type { ConfigKV } from './kv.js'
import { Secret } from './secret.js'
import { type ConfigObject, clone, deleteAt, getAt, isPlainObject, setAt, splitPath } from './tree.js'

/** The key the config document lives under unless another is given. */
export const DEFAULT_CONFIG_KEY = 'config'

const ID = 'micro.config'

/** Options of {@link ConfigDocument}. */
export interface ConfigDocumentOptions {
  /** The document's key. Default `config`. */
  key?: string
  /** Default `micro`. */
  namespace?: string
  /** The key used to encrypt {@link Secret} values that were set in plaintext. */
  secretKey?: () => Buffer
}

/**
 * Config kept as one JSON document per namespace and key in a key/value store: what the
 * `storeSource()` reads and `micro config set` writes. Secrets are stored as `enc:v1:`
 * strings. `set` and `delete` read, change and write the whole document; they are
 * serialised within this object, but two processes changing the same document at the same
 * moment can lose one change (the store interface has no compare-and-set).
 */
export class ConfigDocument {
  readonly kv: ConfigKV
  readonly key: string
  readonly namespace: string
  readonly #secretKey: (() => Buffer) | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(kv: ConfigKV, options: ConfigDocumentOptions = {}) {
    this.kv = kv
    this.key = options.key ?? DEFAULT_CONFIG_KEY
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE
    this.#secretKey = options.secretKey
  }

  /** `store:<namespace>/<key>`, as logs and errors name it. */
  get name(): string {
    return `store:${this.namespace}/${this.key}`
  }

  /** The stored text, undefined when there is none. */
  raw(): Promise<string | undefined> {
    return this.kv.read(this.key, { namespace: this.namespace })
  }

  /**
   * A cheap token that changes whenever the document may have changed, undefined when it was
   * never written; `null` when the store has no such token (read the document to know).
   */
  async version(): Promise<string | undefined | null> {
    return this.kv.version ? this.kv.version(this.key, { namespace: this.namespace }) : null
  }

  /** The document parsed from `raw` (empty when unset); a 400 MicroError when it is not a JSON object. */
  parse(raw: string | undefined): ConfigObject {
    if (raw === undefined || raw.trim() === '') return {}
    let data: unknown
    try {
      data = JSON.parse(raw)
    } catch {
      throw badRequest(ID, `config document ${this.name} is not valid JSON; fix or delete it`)
    }
    if (!isPlainObject(data)) throw badRequest(ID, `config document ${this.name} is not a JSON object`)
    return clone(data) as ConfigObject
  }

  /** The whole document (secrets as their `enc:v1:` text). */
  async read(): Promise<ConfigObject> {
    return this.parse(await this.raw())
  }

  /** The stored value at a dotted path, undefined when unset. */
  async get(path: string): Promise<unknown> {
    return getAt(await this.read(), splitPath(path))
  }

  /** Set the value at a dotted path; {@link Secret}s inside it are stored encrypted. */
  async set(path: string, value: unknown): Promise<void> {
    const parts = splitPath(path)
    if (parts.length === 0 && !isPlainObject(value))
      throw badRequest(ID, 'the config root can only be set to an object')
    const stored = this.#sealSecrets(value)
    return this.#update((tree) => {
      if (parts.length === 0) return stored as ConfigObject
      setAt(tree, parts, stored)
      return tree
    })
  }

  /** Remove the value at a dotted path; false when there was none. */
  async delete(path: string): Promise<boolean> {
    const parts = splitPath(path)
    let removed = false
    await this.#update((tree) => {
      removed = parts.length === 0 ? Object.keys(tree).length > 0 : deleteAt(tree, parts)
      return parts.length === 0 ? {} : tree
    })
    return removed
  }

  #update(change: (tree: ConfigObject) => ConfigObject): Promise<void> {
    const next = this.#queue.then(async () => {
      const tree = change(await this.read())
      await this.kv.write(this.key, JSON.stringify(tree), { namespace: this.namespace })
    })
    this.#queue = next.catch(() => undefined)
    return next
  }

  #sealSecrets(value: unknown): unknown {
    if (value instanceof Secret) {
      if (value.sealed !== undefined) return value.sealed
      if (!this.#secretKey) throw new TypeError(`storing a secret in ${this.name} needs a secretKey`)
      return value.seal(this.#secretKey())
    }
    if (Array.isArray(value)) return value.map((item) => this.#sealSecrets(item))
    if (!isPlainObject(value)) return clone(value)
    const out: ConfigObject = {}
    for (const [key, child] of Object.entries(value)) out[key] = this.#sealSecrets(child)
    return clone(out)
  }
}
