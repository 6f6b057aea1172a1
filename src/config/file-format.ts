import { extname } from 'node:path'
import { badRequest } from '../errors/errors.js'
import { lazyRequire } from '../util/lazy-require.js'
import { type ConfigObject, clone, isPlainObject } from './tree.js'

/** The file formats config files may use, chosen by extension. */
export type FileFormat = 'json' | 'yaml' | 'toml'

const ID = 'micro.config'
const yaml = lazyRequire<typeof import('yaml')>('yaml')
const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')
const EXTENSIONS: Record<string, FileFormat> = {
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.toml': 'toml',
}

/** The format for a file name (`.json`, `.yaml`/`.yml`, `.toml`); a TypeError for anything else. */
export function formatOf(path: string): FileFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()]
  if (!format)
    throw new TypeError(
      `config file ${path}: unknown extension; use .json, .yaml, .yml or .toml, or pass { format }`,
    )
  return format
}

/**
 * Parse a config file's text. An empty file is an empty config; anything but a mapping at
 * the top level, or a syntax error, is a 400 MicroError naming the file, the line and column
 * and the parser's reason (without the parsers' source excerpts, which could show values).
 */
export function parseConfigText(text: string, format: FileFormat, file: string): ConfigObject {
  if (text.trim() === '') return {}
  let data: unknown
  try {
    data = parse(text, format)
  } catch (error) {
    throw badRequest(
      ID,
      `config file ${file}: invalid ${format.toUpperCase()}: ${reason(error, text, format)}`,
    )
  }
  if (data === null || data === undefined) return {}
  if (!isPlainObject(data))
    throw badRequest(
      ID,
      `config file ${file} must hold a mapping of keys at the top level, not a list or value`,
    )
  // clone drops prototype-polluting keys and turns TOML dates into ISO strings
  return clone(data) as ConfigObject
}

function parse(text: string, format: FileFormat): unknown {
  if (format === 'json') return JSON.parse(text)
  if (format === 'yaml') return yaml().parse(text, { prettyErrors: false })
  return toml().parse(text)
}

function reason(error: unknown, text: string, format: FileFormat): string {
  if (!(error instanceof Error)) return String(error)
  const e = error as Error & { pos?: [number, number]; line?: number; column?: number }
  // Without the excerpts: YAML and TOML append source lines, V8's JSON a quoted snippet.
  let message =
    format === 'json'
      ? e.message.replace(/,? (\.\.\.)?".*" is not valid JSON$/s, '').replaceAll('\n', '\\n')
      : (e.message.split('\n')[0] ?? '')
  let offset = e.pos?.[0]
  const jsonPosition = /(?: in JSON)? at position (\d+)/.exec(message)
  if (jsonPosition) {
    offset = Number(jsonPosition[1])
    message = message.replace(jsonPosition[0], '')
  }
  message = message.replace(/^Invalid TOML document: /, '')
  // V8 names no position for an unexpected token; YAML's JSON schema can find it.
  if (offset === undefined && format === 'json') offset = jsonErrorOffset(text)
  if (e.line !== undefined && e.column !== undefined) return `line ${e.line}, column ${e.column}: ${message}`
  if (offset === undefined) return message
  const before = text.slice(0, offset).split('\n')
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}: ${message}`
}

function jsonErrorOffset(text: string): number | undefined {
  const document = yaml().parseDocument(text, { schema: 'json', prettyErrors: false })
  return document.errors[0]?.pos[0]
}
