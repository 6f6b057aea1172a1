import { isSealed, openSecret } from '../config/cipher.js'
import type { ConfigKV } from '../config/kv.js'
import { Secret } from '../config/secret.js'
import { ConfigDocument } from '../config/store-document.js'
import { getAt, mapStrings, splitPath } from '../config/tree.js'
import { badRequest, serviceUnavailable } from '../errors/errors.js'
import { DASHBOARD_ID } from './api/http.js'
import type { ConfigSource } from './sources.js'

/** A dotted config path, or a 400 saying what is wrong with it. */
function checkPath(path: string): string[] {
  try {
    return splitPath(path)
  } catch (error) {
    throw badRequest(DASHBOARD_ID, (error as Error).message)
  }
}

/**
 * The config pages over the store-backed config documents (`micro config`'s): one
 * ConfigDocument per namespace on `kv`. `secretKey` seals new secrets and opens them for
 * an admin's reveal; without it secrets can be neither set nor revealed (a 503).
 */
export function configSourceFromKV(
  kv: ConfigKV,
  options: { secretKey?: () => Buffer; key?: string } = {},
): ConfigSource {
  const documents = new Map<string, ConfigDocument>()
  const document = (namespace: string) => {
    let doc = documents.get(namespace)
    if (!doc) {
      doc = new ConfigDocument(kv, { namespace, key: options.key, secretKey: options.secretKey })
      documents.set(namespace, doc)
    }
    return doc
  }
  const key = () => {
    if (!options.secretKey)
      throw serviceUnavailable(DASHBOARD_ID, 'no secret key is configured (MICRO_CONFIG_SECRET_KEY)')
    return options.secretKey()
  }
  return {
    read: (namespace) => document(namespace).read(),
    async set(namespace, path, value, secret) {
      checkPath(path)
      if (secret) {
        if (typeof value !== 'string') throw badRequest(DASHBOARD_ID, 'a secret must be a string')
        key()
        return document(namespace).set(path, Secret.of(value))
      }
      return document(namespace).set(path, value)
    },
    async delete(namespace, path) {
      checkPath(path)
      return document(namespace).delete(path)
    },
    async reveal(namespace, path) {
      const value = getAt(await document(namespace).read(), checkPath(path))
      if (typeof value !== 'string' || !isSealed(value))
        throw badRequest(DASHBOARD_ID, `${path} is not a secret`)
      return openSecret(value, key(), path)
    },
  }
}

/** The document with every sealed value replaced by `[secret]`, and the paths of those values. */
export function maskSecrets(tree: Record<string, unknown>): { tree: unknown; secrets: string[] } {
  const secrets: string[] = []
  const masked = mapStrings(tree, (text, path) => {
    if (!isSealed(text)) return text
    secrets.push(path)
    return '[secret]'
  })
  return { tree: masked, secrets }
}
