import { RateLimiter } from '../auth/rate-limit.js'
import { type Command, commands as cliCommands } from '../cli/cli.js'
import { runWithCommandContext } from '../cli/command-context.js'
import { openSession } from '../cli/session.js'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { type AuditRecord, type AuditSink, auditCommandLine, auditError } from './audit.js'
import { dispatch } from './dispatch.js'
import { helpReply } from './help.js'
import type { ChatIdentity, IdentityResolver } from './identity.js'
import { outcomeOf } from './output.js'
import { type ChatPolicy, chatPolicy, NotOffered } from './policy.js'
import { cleanReply, type Reply, textReply, truncateReply } from './reply.js'
import { runCaptured } from './run.js'
import { CommandCache, commandsOf, type ServiceCommand } from './service-commands.js'
import { CommandInputError, splitWords } from './words.js'

/** A message from a chat user. */
export interface ChatMessage {
  /** `console`, `xmpp`, `slack`. */
  adapter: string
  /** `<adapter>:<id>`: who sent it, as the chat service vouches. */
  user: string
  text: string
}

/** Bounds on what one message may cost. */
export interface BotLimits {
  /** Longest message taken, characters. Default 2000. */
  maxInputChars: number
  maxWords: number
  /** Longest reply, characters; longer ones are cut with a note. Default 3500. */
  maxReplyChars: number
  /** Table and log lines are cut to this many characters. Default 100. */
  width: number
  /** A command's deadline, ms: its calls are cancelled then. Default 30 s. */
  timeoutMs: number
  /** Per chat user: `capacity` commands at once, then one more every `refillMs`. Default 10, then one per 6 s. */
  rate: { capacity: number; refillMs: number }
  /** Commands running at once, all users together. Default 8. */
  maxInFlight: number
}

export const DEFAULT_LIMITS: BotLimits = {
  maxInputChars: 2000,
  maxWords: 64,
  maxReplyChars: 3500,
  width: 100,
  timeoutMs: 30_000,
  rate: { capacity: 10, refillMs: 6000 },
  maxInFlight: 8,
}

export interface BotOptions {
  identities: IdentityResolver
  audit: AuditSink
  /** The platform commands go through; undefined: this machine's registry and services. */
  platform?: string
  policy?: ChatPolicy
  limits?: Partial<BotLimits>
  /** The command table; default the CLI's own. */
  commands?: Readonly<Record<string, Command>>
  logger?: Logger
}

/**
 * The ops bot: a chat message in, a reply out. Each message is one of the CLI's commands
 * (the same table), run in this process as the chat user's platform account, so the auth
 * rules decide what it may do; the bot's policy decides which commands chat may use at all.
 * Bad input, refusals and failures are answers, never exceptions; every command is audited.
 */
export class Bot {
  readonly #options: BotOptions
  readonly #limits: BotLimits
  readonly #policy: ChatPolicy
  readonly #table: Readonly<Record<string, Command>>
  readonly #rate: RateLimiter
  /** Users told they are rate limited (audited once until they get through again). */
  readonly #limited = new Set<string>()
  readonly #running = new Set<string>()
  readonly #discovered = new CommandCache()

  constructor(options: BotOptions) {
    this.#options = options
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits }
    this.#policy = options.policy ?? chatPolicy()
    this.#table = options.commands ?? cliCommands
    this.#rate = new RateLimiter(this.#limits.rate)
  }

  /** Answer one message. Never rejects. */
  async handle(message: ChatMessage): Promise<Reply> {
    const started = Date.now()
    const base = { time: new Date(started).toISOString(), adapter: message.adapter, user: message.user }
    const audit = (record: Omit<AuditRecord, 'time' | 'adapter' | 'user' | 'durationMs'>) =>
      this.#options.audit
        .write({ ...base, ...record, durationMs: Date.now() - started })
        .catch((error: unknown) => this.#options.logger?.error('bot: audit failed', { error: String(error) }))
    try {
      const reply = await this.#handle(message, audit)
      return truncateReply(cleanReply(reply), this.#limits.maxReplyChars)
    } catch (error) {
      // A bug, not the user's doing: answer, log, keep serving.
      const detail = MicroError.from(error, 'micro.bot').detail
      this.#options.logger?.error('bot: a message failed', { user: message.user, error: detail })
      await audit({ command: '-', allowed: true, outcome: 'error', code: 500, error: auditError(detail) })
      return textReply('error', `error: ${detail}`)
    }
  }

  async #handle(
    message: ChatMessage,
    audit: (record: Omit<AuditRecord, 'time' | 'adapter' | 'user' | 'durationMs'>) => Promise<unknown>,
  ): Promise<Reply> {
    const { user, text } = message
    const limits = this.#limits
    if (!this.#rate.take(user)) {
      const wait = Math.ceil(this.#rate.retryAfter(user) / 1000)
      if (!this.#limited.has(user)) {
        this.#limited.add(user)
        await audit({ command: '-', allowed: false, deniedBy: 'rate-limit', outcome: 'limited' })
      }
      return textReply('limited', `slow down: too many commands; try again in ${wait}s`)
    }
    this.#limited.delete(user)
    if (text.length > limits.maxInputChars) {
      await audit({
        command: `[${text.length} characters]`,
        allowed: false,
        deniedBy: 'input',
        outcome: 'bad-input',
      })
      return textReply(
        'bad-input',
        `the message is ${text.length} characters long; a command takes at most ${limits.maxInputChars}`,
      )
    }
    let words: string[]
    try {
      words = splitWords(text.trim(), { maxWords: limits.maxWords })
    } catch (error) {
      if (!(error instanceof CommandInputError)) throw error
      await audit({
        command: `[unparsed, ${text.length} characters]`,
        allowed: false,
        deniedBy: 'input',
        outcome: 'bad-input',
        error: error.message,
      })
      return textReply('bad-input', `could not read that: ${error.message}`)
    }
    if (words[0] === 'micro') words.shift()
    const command = auditCommandLine(words)
    const identity = await this.#options.identities.forUser(user)
    if (words.length === 0 || words[0] === 'help' || words[0] === '--help' || words[0] === '-h') {
      const found = identity ? await this.#discover(identity).catch(() => undefined) : undefined
      return helpReply(this.#policy, identity?.account, found)
    }
    if (identity === undefined) {
      await audit({ command, allowed: false, deniedBy: 'binding', outcome: 'denied' })
      return textReply(
        'denied',
        `not allowed: ${user} is not bound to a platform account; an admin can run: micro bot bind ${user} <account>`,
      )
    }
    const busy = this.#running.has(user)
      ? 'your previous command is still running; wait for its answer'
      : this.#running.size >= limits.maxInFlight
        ? 'the bot is busy with other commands; try again shortly'
        : undefined
    if (busy !== undefined) {
      await audit({
        command,
        account: identity.account,
        allowed: false,
        deniedBy: 'rate-limit',
        outcome: 'limited',
      })
      return textReply('limited', busy)
    }
    this.#running.add(user)
    try {
      return await this.#run(words, command, identity, audit)
    } finally {
      this.#running.delete(user)
    }
  }

  async #run(
    words: string[],
    command: string,
    identity: ChatIdentity,
    audit: (record: Omit<AuditRecord, 'time' | 'adapter' | 'user' | 'durationMs'>) => Promise<unknown>,
  ): Promise<Reply> {
    const account = identity.account
    let target: Awaited<ReturnType<typeof dispatch>>
    try {
      target = await dispatch(words, {
        table: this.#table,
        policy: this.#policy,
        platform: this.#options.platform,
        namespace: identity.namespace,
        discover: () => this.#discover(identity),
      })
    } catch (error) {
      if (error instanceof NotOffered) {
        await audit({
          command,
          account,
          allowed: false,
          deniedBy: 'policy',
          outcome: 'denied',
          error: error.message,
        })
        return textReply('denied', `not allowed: ${error.message}`)
      }
      if (error instanceof CommandInputError) {
        await audit({
          command,
          account,
          allowed: false,
          deniedBy: 'input',
          outcome: 'bad-input',
          error: error.message,
        })
        return textReply('bad-input', error.message)
      }
      throw error
    }
    let token: string | undefined
    try {
      token = await identity.token()
    } catch (error) {
      const detail = auditError(MicroError.from(error, 'micro.bot').detail)
      await audit({ command, account, allowed: false, deniedBy: 'binding', outcome: 'denied', error: detail })
      return textReply(
        'denied',
        `not allowed: the account bound to you (${account}) could not log in: ${detail}`,
      )
    }
    const result = await runCaptured(target.command, target.argv, {
      token,
      timeoutMs: this.#limits.timeoutMs,
      maxOutputChars: target.captureChars ?? this.#limits.maxReplyChars * 2,
    })
    const outcome = outcomeOf(result, { ...target.style, width: this.#limits.width })
    const error = outcome.audit.error === undefined ? undefined : auditError(outcome.audit.error)
    await audit({ command, account, ...outcome.audit, ...(error === undefined ? {} : { error }) })
    return outcome.reply
  }

  /** The commands services register, as `identity` may see them (cached a while). */
  #discover(identity: ChatIdentity): Promise<ReadonlyMap<string, readonly ServiceCommand[]>> {
    const namespace = identity.namespace
    return this.#discovered.get(`${namespace}\u0000${identity.account}`, async () => {
      const token = await identity.token()
      const session = openSession({
        namespace,
        platform: this.#options.platform,
        environment: undefined,
        registry: process.env.MICRO_REGISTRY || undefined,
        registryAddress: process.env.MICRO_REGISTRY_ADDRESS || undefined,
        help: false,
        json: false,
      })
      try {
        const records = await runWithCommandContext({ token, signal: AbortSignal.timeout(5000) }, () =>
          session.services.listServices(namespace),
        )
        return commandsOf(records, new Set(Object.keys(this.#table)))
      } finally {
        await session.close()
      }
    })
  }
}
