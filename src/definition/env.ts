import { envPrefix } from '../config/service-config.js'
import type { StandardIssue, StandardSchema } from '../server/standard-schema.js'
import { parseDuration } from '../util/duration.js'
import type { EnvEnumOptions, EnvSpec, EnvVar, EnvVarOptions } from './env-spec.js'
import type { Problems } from './problems.js'

/** Names whose values are never printed, whatever the declaration says. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i

/**
 * The prefix of per-service overrides: `orders-api` reads `ORDERS_API__NAME` before `NAME`.
 * The same rule as the service's config (`ORDERS_API__DB_URL` → `db.url`): one prefix.
 */
export { envPrefix }

/** What `resolveEnv` reads. */
export interface EnvInput {
  service: string
  /** The definition's declaration: an EnvSpec or a Standard Schema of the whole environment. */
  spec: EnvSpec | StandardSchema | undefined
  /** Names from the toml's `envs`: required strings unless the spec declares them. */
  required: readonly string[]
  source: NodeJS.ProcessEnv
}

/**
 * Read and check the environment a service declares. Every missing or malformed variable
 * is recorded as a problem keyed `env.NAME`; values of secrets never appear in messages.
 * Per-service overrides `<SERVICE>__NAME` win over `NAME`.
 */
export async function resolveEnv(input: EnvInput, problems: Problems): Promise<Record<string, unknown>> {
  const prefix = envPrefix(input.service)
  const lookup = (name: string) => {
    const own = input.source[prefix + name]
    return own !== undefined ? { value: own, from: prefix + name } : { value: input.source[name], from: name }
  }
  const values: Record<string, unknown> = {}
  const spec = input.spec
  const declared = spec !== undefined && !isStandardSchema(spec) ? spec : {}
  for (const name of input.required) {
    if (!(name in declared)) readVar(name, 'string', lookup, prefix, values, problems)
  }
  if (spec === undefined) return values
  if (isStandardSchema(spec)) return { ...values, ...(await validateSchema(spec, input, prefix, problems)) }
  for (const [name, declaration] of Object.entries(spec))
    readVar(name, declaration, lookup, prefix, values, problems)
  return values
}

/** Whether `value` implements Standard Schema. */
export function isStandardSchema(value: unknown): value is StandardSchema {
  return typeof value === 'object' && value !== null && '~standard' in value
}

type Lookup = (name: string) => { value: string | undefined; from: string }

function readVar(
  name: string,
  declaration: EnvVar,
  lookup: Lookup,
  prefix: string,
  out: Record<string, unknown>,
  problems: Problems,
): void {
  const options: EnvVarOptions | EnvEnumOptions =
    typeof declaration === 'string' ? { type: declaration } : declaration
  const key = `env.${name}`
  const { value, from } = lookup(name)
  if (value === undefined || value === '') {
    if (options.default !== undefined) out[name] = options.default
    else if (options.optional) out[name] = undefined
    else {
      const state = value === '' ? `${from} is set but empty` : 'missing'
      problems.add(key, state, `set ${name} (or ${prefix}${name} for this service only)${hint(options)}`)
    }
    return
  }
  const secret = options.secret === true || SECRET_NAME.test(name)
  // Credentials inside any URL-like value are hidden too (DATABASE_URL=postgres://user:pass@...).
  const shown = secret ? 'the value (hidden: secret)' : `"${redactUrl(value)}"`
  const parsed = parseValue(options, value)
  if (parsed.ok) out[name] = parsed.value
  else {
    const where = from === name ? '' : ` (from ${from})`
    problems.add(key, `${shown} ${parsed.why}${where}`, `set ${name} to ${parsed.expected}`)
  }
}

function hint(options: EnvVarOptions | EnvEnumOptions): string {
  if (options.type === 'enum') return `, one of ${options.values.join(', ')}`
  return options.type === 'string' ? '' : ` (${options.type})`
}

type Parsed = { ok: true; value: unknown } | { ok: false; why: string; expected: string }

function parseValue(options: EnvVarOptions | EnvEnumOptions, text: string): Parsed {
  switch (options.type) {
    case 'string':
      return { ok: true, value: text }
    case 'int':
      if (/^[-+]?\d+$/.test(text.trim()) && Number.isSafeInteger(Number(text)))
        return { ok: true, value: Number(text) }
      return { ok: false, why: 'is not an integer', expected: 'a whole number such as 50' }
    case 'bool': {
      const v = text.trim().toLowerCase()
      if (['true', '1', 'yes', 'on'].includes(v)) return { ok: true, value: true }
      if (['false', '0', 'no', 'off'].includes(v)) return { ok: true, value: false }
      return { ok: false, why: 'is not a boolean', expected: 'true or false (also 1/0, yes/no, on/off)' }
    }
    case 'duration':
      try {
        return { ok: true, value: parseDuration(text) }
      } catch {
        return {
          ok: false,
          why: 'is not a duration',
          expected: 'a duration such as 500ms, 30s, 5m or a number of seconds',
        }
      }
    case 'url':
      if (URL.canParse(text)) return { ok: true, value: text }
      return { ok: false, why: 'is not a URL', expected: 'an absolute URL such as https://host:port/path' }
    case 'enum':
      if (options.values.includes(text)) return { ok: true, value: text }
      return {
        ok: false,
        why: 'is not one of the allowed values',
        expected: `one of ${options.values.join(', ')}`,
      }
    default:
      return {
        ok: false,
        why: `has an unknown type ${String((options as { type: unknown }).type)}`,
        expected: 'a declared type',
      }
  }
}

/** A URL with its password replaced, so connection strings can be shown in messages. */
export function redactUrl(text: string): string {
  if (!URL.canParse(text)) return text.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@')
  const url = new URL(text)
  if (url.password) url.password = '***'
  return url.href
}

async function validateSchema(
  schema: StandardSchema,
  input: EnvInput,
  prefix: string,
  problems: Problems,
): Promise<Record<string, unknown>> {
  const env: Record<string, string | undefined> = { ...input.source }
  for (const [name, value] of Object.entries(input.source)) {
    if (name.startsWith(prefix) && name.length > prefix.length) env[name.slice(prefix.length)] = value
  }
  const result = await schema['~standard'].validate(env)
  if (result.issues) {
    for (const issue of result.issues) problems.add(`env.${pathOf(issue) || '(environment)'}`, issue.message)
    return {}
  }
  return (result.value ?? {}) as Record<string, unknown>
}

function pathOf(issue: StandardIssue): string {
  return (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.')
}
