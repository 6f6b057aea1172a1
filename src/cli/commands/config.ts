import {
  ConfigDocument,
  type ConfigKV,
  isSealed,
  openSecret,
  Secret,
  secretKeyFromEnv,
} from '../../config/index.js'
import { mapStrings, splitPath } from '../../config/tree.js'
import { notFound, serviceUnavailable } from '../../errors/errors.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'

export const CONFIG_HELP = `Usage: micro config get [path] [options]
       micro config set|del <path> [value] [options]

Read and change the config services load with the storeSource() source: one JSON document
per namespace, addressed by dotted paths. A value that parses as JSON is stored as
JSON (numbers, booleans, objects), anything else as a string.

  micro config set db.url postgres://db/shop
  micro config set features '{"checkout":true}'
  micro config set db.password 'hunter2' --secret
  micro config get db                  secrets print as "[secret]"
  micro config get                     the whole document
  micro config get db.password --secret
  micro config del db.url

Options:
  --secret        set: store the value encrypted with MICRO_CONFIG_SECRET_KEY;
                  get: show secrets decrypted
  --key <key>     the config document (default config)
${GLOBAL_HELP}`

/** The key/value store config lives in, with an optional close. */
export type OpenedConfigKV = ConfigKV & { close?(): Promise<void> }

/** What `micro config` works against; tests pass a memory KV, the CLI the platform's store. */
export interface ConfigCommandDeps {
  /** Open the store for the global options (namespace, addresses). */
  openKV?: (options: GlobalOptions) => Promise<OpenedConfigKV> | OpenedConfigKV
  /** For MICRO_CONFIG_SECRET_KEY; default process.env. */
  env?: NodeJS.ProcessEnv
}

/** Until the platform store is wired in, the CLI has no store to talk to. */
function noStore(): never {
  throw serviceUnavailable('micro.cli', 'no config store is configured for the CLI yet')
}

/** `micro config get|set|del`: read or change the store-backed config of a namespace. */
export async function configCommand(
  argv: string[],
  out: (text: string) => void,
  deps: ConfigCommandDeps = {},
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    secret: { type: 'boolean' },
    key: { type: 'string' },
  })
  if (global.help) {
    out(CONFIG_HELP)
    return 0
  }
  const [action, given, value, ...extra] = positionals
  if (action !== 'get' && action !== 'set' && action !== 'del' && action !== 'delete')
    throw new UsageError(`config needs get, set or del${action ? `, not ${action}` : ''}`)
  // get without a path reads the whole document; set and del need one.
  if ((given === undefined || given === '') && action !== 'get')
    throw new UsageError(`config ${action} needs a path, e.g. db.url`)
  const path = given ?? ''
  if (action === 'set' && value === undefined) throw new UsageError('config set needs a path and a value')
  if (extra.length > 0 || (action !== 'set' && value !== undefined))
    throw new UsageError(`too many arguments for config ${action} (quote values with spaces)`)
  try {
    splitPath(path)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const env = deps.env ?? process.env
  const secret = values.secret === true
  // Check the key before touching the store, so a missing key never half-does anything.
  const key = secret ? secretKeyFromEnv(env) : undefined
  const kv = await (deps.openKV ?? noStore)(global)
  const document = new ConfigDocument(kv, {
    key: values.key as string | undefined,
    namespace: global.namespace,
    secretKey: () => key ?? secretKeyFromEnv(env),
  })
  try {
    if (action === 'set') {
      await document.set(path, secret ? Secret.of(value as string) : parseValue(value as string))
    } else if (action === 'get') {
      const stored = await document.get(path)
      if (stored === undefined)
        throw notFound('micro.cli', `config ${path} is not set in namespace ${global.namespace}`)
      const shown = mapStrings(stored, (text, at) =>
        !isSealed(text) ? text : key ? openSecret(text, key, join(path, at)) : '[secret]',
      )
      out(typeof shown === 'string' && !global.json ? shown : JSON.stringify(shown, null, 2))
    } else if (!(await document.delete(path))) {
      throw notFound('micro.cli', `config ${path} is not set in namespace ${global.namespace}`)
    }
    return 0
  } finally {
    await kv.close?.()
  }
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function join(path: string, sub: string): string {
  return sub === '' ? path : path === '' ? sub : `${path}.${sub}`
}
