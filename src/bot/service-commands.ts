import type { ServiceRecord } from '../registry/registry.js'

/**
 * Commands services add to the bot: an endpoint whose registry metadata has `bot.command`
 * (e.g. `endpoint({ metadata: { 'bot.command': 'deploy', 'bot.help': 'roll a service out' } }, fn)`)
 * is the chat command `deploy`, called like a dynamic command (flags are the request's
 * fields, typed from its schema).
 */
export interface ServiceCommand {
  /** The chat word: `deploy`. */
  name: string
  service: string
  /** `Ops.Deploy` */
  endpoint: string
  /** One line of help from metadata `bot.help`. */
  help?: string
}

/** Metadata keys a service sets on an endpoint. */
export const BOT_COMMAND_KEY = 'bot.command'
export const BOT_HELP_KEY = 'bot.help'

/** What a service may name a command: a lowercase word, so it reads like the CLI's own. */
export const COMMAND_NAME = /^[a-z][a-z0-9-]{0,31}$/

/**
 * The commands the services in `records` register, by name. A name that is not a plain
 * word or is already one of `taken` (the CLI's commands win) is left out; two services
 * registering one name both stay, and the bot asks which (see {@link pickCommand}).
 */
export function commandsOf(
  records: readonly ServiceRecord[],
  taken: ReadonlySet<string>,
): Map<string, ServiceCommand[]> {
  const found = new Map<string, ServiceCommand[]>()
  for (const record of records) {
    for (const endpoint of record.endpoints) {
      const name = endpoint.metadata[BOT_COMMAND_KEY]
      if (name === undefined || !COMMAND_NAME.test(name) || taken.has(name)) continue
      const list = found.get(name) ?? []
      // Several versions of a service register the same endpoint: one command.
      if (list.some((c) => c.service === record.name && c.endpoint === endpoint.name)) continue
      const help = endpoint.metadata[BOT_HELP_KEY]?.replace(/\s+/g, ' ').slice(0, 200)
      list.push({ name, service: record.name, endpoint: endpoint.name, ...(help ? { help } : {}) })
      found.set(name, list)
    }
  }
  return found
}

/**
 * The one command `name` stands for; a message naming the services when several register
 * it (say `<service> <endpoint words>` instead), undefined when none does.
 */
export function pickCommand(
  commands: ReadonlyMap<string, readonly ServiceCommand[]>,
  name: string,
): ServiceCommand | string | undefined {
  const list = commands.get(name)
  if (list === undefined || list.length === 0) return undefined
  if (list.length === 1) return list[0]
  const owners = list.map((c) => `${c.service} (${c.endpoint})`).join(', ')
  return `${name} is registered by more than one service: ${owners}; call it as <service> <endpoint words>`
}

/** Discovered commands kept for a while per namespace and account (what one may list, another may not). */
export class CommandCache {
  readonly #ttlMs: number
  readonly #entries = new Map<string, { at: number; commands: Map<string, ServiceCommand[]> }>()

  constructor(ttlMs = 15_000) {
    this.#ttlMs = ttlMs
  }

  /** The cached commands for `key`, or those `load` finds (kept when it succeeds). */
  async get(
    key: string,
    load: () => Promise<Map<string, ServiceCommand[]>>,
  ): Promise<Map<string, ServiceCommand[]>> {
    const entry = this.#entries.get(key)
    if (entry && Date.now() - entry.at < this.#ttlMs) return entry.commands
    const commands = await load()
    if (this.#entries.size >= 256) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(key, { at: Date.now(), commands })
    return commands
  }
}
