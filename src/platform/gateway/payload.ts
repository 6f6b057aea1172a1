import { badRequest, MicroError } from '../../errors/errors.js'

const ID = 'micro.gateway'
/** Most query fields or form fields one request may carry. */
const MAX_FIELDS = 256
/** Deepest nesting a field name may ask for (`a[b][c]`, `a.b.c`). */
const MAX_DEPTH = 16
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** The request body a service gets, and the content type it is sent with. */
export interface Payload {
  body: Uint8Array
  contentType: string
}

/** Taken as JSON: fetch() sends a string body as text/plain, and Micro v3 reads unknown types as JSON. */
const JSON_TYPES = new Set(['', 'application/json', 'text/json', 'text/plain'])

/** Content types passed to services untouched (the gateway's client has a passthrough codec for each). */
export const RAW_TYPES: Record<string, string> = {
  'application/msgpack': 'application/msgpack',
  'application/x-msgpack': 'application/msgpack',
  'application/vnd.msgpack': 'application/msgpack',
  'application/octet-stream': 'application/octet-stream',
}

/**
 * The body to send a service, as Micro v3's API gateway builds it:
 *
 * - a JSON body (no content type, or text/plain as fetch() sends a string) passes through as bytes, never parsed, unless the URL
 *   has a query;
 * - `application/x-www-form-urlencoded` (what `curl -d` sends): a body that looks like JSON
 *   is taken as JSON; otherwise the fields become a JSON object of strings (repeated fields
 *   joined with `,`);
 * - query fields are merged in, the body's fields winning: values that read as a number,
 *   `true`, `false` or `null` get that type (as Micro v3's qson does), `a.b=1` and
 *   `a[b]=1` nest, `a[]=1` appends, a repeated name makes a list;
 * - MessagePack and octet-stream bodies pass through with their type; others are a 415.
 *
 * Services always receive `application/json` for JSON and forms. Throws a 400 for a body
 * that must be parsed and is not a JSON object.
 */
export function buildPayload(
  contentType: string | undefined,
  body: Buffer,
  query: string | undefined,
): Payload {
  const type = mediaType(contentType)
  if (JSON_TYPES.has(type)) {
    return { body: query ? merged(body, query) : body, contentType: 'application/json' }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const json = looksLikeJson(body)
    if (json && !query) return { body, contentType: 'application/json' }
    const fields = json ? parseJsonObject(body) : formFields(body.toString('utf8'))
    return { body: query ? merged(fields, query) : encode(fields), contentType: 'application/json' }
  }
  const raw = RAW_TYPES[type]
  if (raw !== undefined) {
    if (query) throw badRequest(ID, `query fields cannot be merged into a ${raw} body; send them in the body`)
    return { body, contentType: raw }
  }
  throw new MicroError(
    ID,
    `content type ${type} is not supported: send JSON, a form, MessagePack or octet-stream`,
    415,
  )
}

/** The media type of a Content-Type header, lower-case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

function merged(body: Buffer | Record<string, unknown>, query: string): Buffer {
  const fields = queryFields(query)
  const own = Buffer.isBuffer(body) ? parseJsonObject(body) : body
  return encode(mergeInto(fields, own))
}

function looksLikeJson(body: Buffer): boolean {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue
    return byte === 0x7b || byte === 0x5b // { or [
  }
  return false
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw badRequest(ID, `the body is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(ID, 'query or form fields can only be merged into a JSON object body')
  }
  return value as Record<string, unknown>
}

/** Form fields as Micro v3 reads them: strings, repeated names joined with `,`. */
function formFields(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let count = 0
  for (const [key, value] of new URLSearchParams(text)) {
    if (++count > MAX_FIELDS) throw badRequest(ID, `more than ${MAX_FIELDS} form fields`)
    if (UNSAFE_KEYS.has(key)) continue
    const prior = out[key]
    out[key] = typeof prior === 'string' ? `${prior},${value}` : value
  }
  return out
}

/** Query fields with typed values and nesting (see {@link buildPayload}). */
export function queryFields(query: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let count = 0
  for (const [name, text] of new URLSearchParams(query)) {
    if (++count > MAX_FIELDS) throw badRequest(ID, `more than ${MAX_FIELDS} query fields`)
    const path = fieldPath(name)
    if (path === undefined) continue
    setField(out, path, typed(text))
  }
  return out
}

/** `a.b[c][]` is `['a', 'b', 'c', '']`; undefined for names that cannot be used safely. */
function fieldPath(name: string): string[] | undefined {
  const path: string[] = []
  for (const dotted of name.split('.')) {
    const bracket = dotted.indexOf('[')
    if (bracket === -1 || !dotted.endsWith(']')) {
      path.push(dotted)
      continue
    }
    path.push(dotted.slice(0, bracket))
    path.push(...dotted.slice(bracket + 1, -1).split(']['))
  }
  if (path.length > MAX_DEPTH)
    throw badRequest(ID, `query field ${name} nests deeper than ${MAX_DEPTH} levels`)
  if (path[0] === '' || path.some((key) => UNSAFE_KEYS.has(key))) return undefined
  return path
}

function setField(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string
    if (path[i + 1] === '' && i + 1 === path.length - 1) {
      const list = Array.isArray(node[key]) ? (node[key] as unknown[]) : []
      list.push(value)
      node[key] = list
      return
    }
    const next = node[key]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  const key = path[path.length - 1] as string
  if (!Object.hasOwn(node, key)) node[key] = value
  else node[key] = Array.isArray(node[key]) ? [...(node[key] as unknown[]), value] : [node[key], value]
}

function typed(text: string): unknown {
  if (text === 'true') return true
  if (text === 'false') return false
  if (text === 'null') return null
  if (text !== '' && /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) {
    const n = Number(text)
    if (Number.isFinite(n)) return n
  }
  return text
}

/** Deep-merge `over` into `base` (objects merge, anything else replaces); returns `base`. */
function mergeInto(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(over)) {
    if (UNSAFE_KEYS.has(key)) continue
    const a = base[key]
    const b = over[key]
    base[key] = isPlainObject(a) && isPlainObject(b) ? mergeInto(a, b) : b
  }
  return base
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}
