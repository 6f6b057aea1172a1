// NATS KV allows `[-/_=.a-zA-Z0-9]` in keys (no leading or trailing dot) and
// `[-_a-zA-Z0-9]` in bucket names, so names and keys are escaped: other bytes of their
// UTF-8 become `=XX` in keys (dots too, so a key is one subject token) and `-XX` in
// bucket name parts ('-' and '_' too, so '_' can separate the parts).

import type { Scope } from './scope.js'

/** A store key as a NATS KV key. */
export function encodeKey(key: string): string {
  return /^[A-Za-z0-9/_-]+$/.test(key) ? key : escapeText(key, /[A-Za-z0-9/_-]/, '=')
}

/** A NATS KV key back to the store key. */
export function decodeKey(encoded: string): string {
  return encoded.includes('=') ? unescapeText(encoded, '=') : encoded
}

/** The bucket of a table: `<prefix><ns>_<db>_<table>`, each part escaped. */
export function bucketName(prefix: string, scope: Scope): string {
  return `${namespaceBucketPrefix(prefix, scope.namespace)}${part(scope.database)}_${part(scope.table)}`
}

/** What every bucket of a namespace starts with. */
export function namespaceBucketPrefix(prefix: string, namespace: string): string {
  return `${prefix}${part(namespace)}_`
}

/** The database and table of a bucket of the namespace, or undefined when it is not one. */
export function parseBucket(name: string, nsPrefix: string): { database: string; table: string } | undefined {
  if (!name.startsWith(nsPrefix)) return undefined
  const parts = name.slice(nsPrefix.length).split('_')
  if (parts.length !== 2) return undefined
  return { database: unescapeText(parts[0] as string, '-'), table: unescapeText(parts[1] as string, '-') }
}

function part(name: string): string {
  return escapeText(name, /[A-Za-z0-9]/, '-')
}

function escapeText(text: string, keep: RegExp, mark: string): string {
  let out = ''
  for (const char of text) {
    if (keep.test(char)) {
      out += char
      continue
    }
    for (const byte of Buffer.from(char)) out += mark + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function unescapeText(text: string, mark: string): string {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === mark) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(text.charCodeAt(i))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}
