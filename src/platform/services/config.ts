import { isSealed, openSecret, secretKeyFromEnv } from '../../config/cipher.js'
import type { ConfigKV } from '../../config/kv.js'
import { Secret } from '../../config/secret.js'
import { ConfigDocument, DEFAULT_CONFIG_KEY } from '../../config/store-document.js'
import { mapStrings, splitPath } from '../../config/tree.js'
import { notFound } from '../../errors/errors.js'
import {
  type Fields,
  fields,
  flag,
  invalid,
  namespaceOf,
  optionalString,
  PLATFORM_ERROR_ID,
  requiredString,
} from './wire.js'

/** Options of the {@link Config} service. */
export interface ConfigServiceOptions {
  /** The key secrets are sealed and opened with; default MICRO_CONFIG_SECRET_KEY, read when first needed. */
  secretKey?: () => Buffer
}

/** How many documents keep their write queue between requests. */
const DOCUMENTS_KEPT = 1024

/**
 * Config as a service: `Config.Get`, `Set`, `Delete`, `Read` on the JSON document of a
 * namespace (the one `micro config` and `storeSource()` use, in the store's `config` table),
 * addressed by dotted paths. Secrets are stored sealed with the server's
 * MICRO_CONFIG_SECRET_KEY and come back as `"[secret]"` unless the request says
 * `secret: true`.
 */
export class Config {
  readonly #kv: ConfigKV
  readonly #secretKey: () => Buffer
  readonly #documents = new Map<string, ConfigDocument>()

  constructor(kv: ConfigKV, options: ConfigServiceOptions = {}) {
    this.#kv = kv
    this.#secretKey = options.secretKey ?? (() => secretKeyFromEnv())
  }

  /** `{namespace?, key?, path, secret?}` → `{value}`; 404 when nothing is set there. */
  async Get(request: unknown): Promise<{ value: unknown }> {
    const req = fields(request, 'Config.Get')
    const path = pathOf(optionalString(req, 'path') ?? '')
    const document = this.#document(req)
    const value = await document.get(path)
    if (value === undefined)
      throw notFound(
        PLATFORM_ERROR_ID,
        `config ${path || '(root)'} is not set in namespace ${document.namespace}`,
      )
    return { value: this.#shown(value, path, flag(req, 'secret')) }
  }

  /** `{namespace?, key?}` → `{value}`: the whole document (`{}` when unset). */
  async Read(request: unknown): Promise<{ value: unknown }> {
    const req = fields(request ?? {}, 'Config.Read')
    return { value: this.#shown(await this.#document(req).read(), '', flag(req, 'secret')) }
  }

  /** `{namespace?, key?, path, value, secret?}`: a secret value (a string) is stored sealed. */
  async Set(request: unknown): Promise<Record<string, never>> {
    const req = fields(request, 'Config.Set')
    const path = pathOf(requiredString(req, 'path'))
    if (!('value' in req) || req.value === undefined) throw invalid('Config.Set needs a value')
    let value = req.value
    if (flag(req, 'secret')) {
      if (typeof value !== 'string') throw invalid('a secret value must be a string')
      value = Secret.of(value)
    }
    await this.#document(req).set(path, value)
    return {}
  }

  /** `{namespace?, key?, path}` → `{deleted}`: whether something was there. */
  async Delete(request: unknown): Promise<{ deleted: boolean }> {
    const req = fields(request, 'Config.Delete')
    const path = pathOf(requiredString(req, 'path'))
    return { deleted: await this.#document(req).delete(path) }
  }

  #document(req: Fields): ConfigDocument {
    const namespace = namespaceOf(req)
    const key = optionalString(req, 'key') || DEFAULT_CONFIG_KEY
    const id = `${namespace}\0${key}`
    let document = this.#documents.get(id)
    if (!document) {
      // Forgetting a document only loses its write queue between requests, never data.
      if (this.#documents.size >= DOCUMENTS_KEPT) this.#documents.clear()
      document = new ConfigDocument(this.#kv, { namespace, key, secretKey: this.#secretKey })
      this.#documents.set(id, document)
    }
    return document
  }

  /** Sealed strings as `[secret]`, or opened when the caller asked for secrets. */
  #shown(value: unknown, path: string, reveal: boolean): unknown {
    const key = reveal ? this.#secretKey() : undefined
    return mapStrings(value, (text, at) => {
      if (!isSealed(text)) return text
      return key ? openSecret(text, key, join(path, at)) : '[secret]'
    })
  }
}

function pathOf(path: string): string {
  try {
    splitPath(path)
  } catch (error) {
    throw invalid((error as Error).message)
  }
  return path
}

function join(path: string, sub: string): string {
  return sub === '' ? path : path === '' ? sub : `${path}.${sub}`
}
