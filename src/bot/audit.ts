import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { redactText } from '../auth/redact.js'
import type { Logger } from '../logger/logger.js'
import type { ReplyStatus } from './reply.js'
import { joinWords } from './words.js'

/** One chat command, as the audit keeps it: who, what, allowed or not, how it ended. No secrets. */
export interface AuditRecord {
  /** ISO time the message arrived. */
  time: string
  adapter: string
  /** The chat user: `xmpp:alice@example.com`. */
  user: string
  /** The platform account it ran as (`micro/ops-alice`), `anonymous`, or undefined when none was used. */
  account?: string
  /** The command line, secret-looking values redacted, at most 300 characters. */
  command: string
  allowed: boolean
  /** Who refused it: the bot's policy, the auth rules, a missing binding, the rate limit, the input itself. */
  deniedBy?: 'policy' | 'rules' | 'binding' | 'rate-limit' | 'input'
  outcome: ReplyStatus
  /** The error code (401, 403, 404 ...) when it failed. */
  code?: number
  /** The error's message, redacted, at most 300 characters. */
  error?: string
  durationMs: number
}

/** Where audit records go. */
export interface AuditSink {
  write(record: AuditRecord): Promise<void>
}

/** Words whose value is a secret: `--secret x`, `--password=x`, `{"token": ...}`. */
const SECRET_NAME = /secret|password|passwd|token|api[_-]?key|credential|private[_-]?key/i

/** `words` as one line fit for the audit: values of secret-looking flags and JSON fields redacted. */
export function auditCommandLine(words: readonly string[]): string {
  const shown: string[] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string
    const flag = /^--?([^=]+)(=?)/.exec(word)
    if (flag && SECRET_NAME.test(flag[1] as string)) {
      shown.push(flag[2] ? `--${flag[1]}=[redacted]` : word)
      if (!flag[2] && i + 1 < words.length && !(words[i + 1] as string).startsWith('-')) {
        shown.push('[redacted]')
        i++
      }
      continue
    }
    const pair = /^([^=\s]+)=/.exec(word)
    shown.push(pair && SECRET_NAME.test(pair[1] as string) ? `${pair[1]}=[redacted]` : redactJson(word))
  }
  const line = redactText(joinWords(shown))
  return line.length > 300 ? `${line.slice(0, 299)}…` : line
}

/** A JSON word with the values of secret-looking keys replaced; anything else as it is. */
function redactJson(word: string): string {
  const start = word.trimStart()[0]
  if (start !== '{' && start !== '[') return word
  try {
    return JSON.stringify(JSON.parse(word), (key, value) =>
      key && SECRET_NAME.test(key) ? '[redacted]' : value,
    )
  } catch {
    return word
  }
}

/** A short, redacted error message for the audit. */
export function auditError(message: string): string {
  const line = redactText(message.replace(/\s+/g, ' '))
  return line.length > 300 ? `${line.slice(0, 299)}…` : line
}

/**
 * Audit records as JSON lines appended to `file` (created 0600, its folder 0700), and one
 * log line each. A failed write is logged and does not fail the command: the log line
 * still holds the record.
 */
export class FileAuditSink implements AuditSink {
  readonly #file: string
  readonly #logger: Logger | undefined
  #ready: Promise<unknown> | undefined

  constructor(file: string, logger?: Logger) {
    this.#file = file
    this.#logger = logger
  }

  async write(record: AuditRecord): Promise<void> {
    this.#logger?.info('bot: command', { ...record })
    try {
      this.#ready ??= mkdir(dirname(this.#file), { recursive: true, mode: 0o700 })
      await this.#ready
      await appendFile(this.#file, `${JSON.stringify(record)}\n`, { mode: 0o600 })
    } catch (error) {
      this.#ready = undefined
      this.#logger?.error('bot: the audit file could not be written', {
        file: this.#file,
        error: (error as Error).message,
      })
    }
  }
}

/** Audit records kept in memory (newest last, at most `max`): for `micro bot` without a file, and tests. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = []
  readonly #max: number

  constructor(max = 1000) {
    this.#max = max
  }

  async write(record: AuditRecord): Promise<void> {
    this.records.push(record)
    if (this.records.length > this.#max) this.records.shift()
  }
}
