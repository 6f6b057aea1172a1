/**
 * Which of the CLI's commands the bot offers in chat, and which arguments it refuses. The
 * auth rules still decide every call a command makes (it runs with the chat user's
 * account); this is the bot's own, earlier line: commands that would take over the bot's
 * process, read or write the bot machine's files, or send the user's token somewhere else
 * are never run for a chat message.
 */

/** Offered by default: looking around, calling, the runtime's state and its recent logs. */
export const DEFAULT_ALLOWED: readonly string[] = ['services', 'describe', 'call', 'status', 'logs']

/** Never run from chat, even when configured, and why. */
export const NEVER_IN_CHAT: Readonly<Record<string, string>> = {
  bot: 'it is the bot itself',
  api: 'it serves HTTP until stopped',
  web: 'it serves the dashboard until stopped',
  run: "it runs folders from the bot's machine",
  new: "it writes files on the bot's machine",
  gen: "it writes files on the bot's machine",
  login: "it keeps tokens in the bot machine's config",
  logout: "it changes the bot machine's config",
  env: "it changes the bot machine's config",
  user: "it changes the bot machine's config",
  subscribe: 'it never ends',
}

/**
 * Options that choose where a command goes or what it reads (a platform, a registry, a
 * node's address, a local store): in chat they would send the user's token to a place of
 * their choosing or read the bot's disk. The bot sets the platform itself.
 */
const LOCATION_OPTIONS = ['platform', 'registry', 'registry_address', 'address', 'store', 'store_address']

/** Metadata keys an argument may not set: who a call runs as is the bot's to say. */
const IDENTITY_METADATA = /^(authorization|micro-)/i

/** What the bot offers in chat. */
export interface ChatPolicy {
  /**
   * Command prefixes offered: a command (`services`) or a command and its first word
   * (`store read`). Default {@link DEFAULT_ALLOWED}. Commands in {@link NEVER_IN_CHAT} are
   * never offered, whatever this says.
   */
  allow: readonly string[]
  /** Any other first word names a service: `greeter hello --name=Alice` (the CLI's dynamic commands). Default true. */
  dynamic: boolean
  /** Commands services register (endpoint metadata `bot.command`). Default true. */
  serviceCommands: boolean
}

/** The default policy, with `allow` extended by `extra` (`MICRO_BOT_ALLOW`, `--allow`). */
export function chatPolicy(extra: readonly string[] = [], overrides: Partial<ChatPolicy> = {}): ChatPolicy {
  const allow = [...DEFAULT_ALLOWED, ...extra.map((p) => p.trim().replace(/\s+/g, ' ')).filter(Boolean)]
  for (const prefix of allow) {
    const name = prefix.split(' ')[0] as string
    if (Object.hasOwn(NEVER_IN_CHAT, name))
      throw new TypeError(`${name} cannot be offered in chat: ${NEVER_IN_CHAT[name]}`)
  }
  return { allow: [...new Set(allow)], dynamic: true, serviceCommands: true, ...overrides }
}

/** Why a command is not run: the bot's policy said no (answered "not allowed", audited). */
export class NotOffered extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotOffered'
  }
}

/**
 * Whether `name` (a command of the CLI's table) with `args` is offered: undefined when it
 * is, else the reason.
 */
export function refusal(policy: ChatPolicy, name: string, args: readonly string[]): string | undefined {
  if (Object.hasOwn(NEVER_IN_CHAT, name)) return `${name} is not available in chat: ${NEVER_IN_CHAT[name]}`
  const sub = args[0]
  const offered = policy.allow.some((prefix) => {
    const [command, word] = prefix.split(' ')
    return command === name && (word === undefined || word === sub)
  })
  if (offered) return undefined
  const partly = policy.allow.filter((p) => p.split(' ')[0] === name)
  if (partly.length > 0) return `only ${partly.join(', ')} is offered in chat`
  return `${name} is not offered in chat (offered: ${policy.allow.join(', ')})`
}

/**
 * Refuse the arguments chat may not give any command: options that pick where it goes
 * ({@link LOCATION_OPTIONS}), `-` (standard input: the bot's own), metadata that would say
 * who the caller is, and for `logs` following (it would never end).
 */
export function checkArguments(name: string, args: readonly string[]): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    if (arg === '-' || /^--[^=]+=-$/.test(arg))
      throw new NotOffered('- (standard input) is not available in chat: give the value itself')
    const option = /^--([^=]+)/.exec(arg)?.[1]
    if (option !== undefined && LOCATION_OPTIONS.includes(option)) {
      throw new NotOffered(`--${option} is not available in chat: the bot decides where commands go`)
    }
    if (option === 'metadata') {
      const pair = arg.includes('=', 2 + option.length) ? arg.slice(arg.indexOf('=') + 1) : args[i + 1]
      if (pair !== undefined && IDENTITY_METADATA.test(pair))
        throw new NotOffered(
          'metadata naming the caller is not available in chat: commands run as your account',
        )
    }
    if (name === 'logs' && (option === 'follow' || /^-[^-]*f/.test(arg))) {
      throw new NotOffered('logs -f is not available in chat (it never ends): use -n or --since')
    }
  }
}
