import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { configDirectory } from '../cli/environments.js'

/** A chat user bound to a platform account. */
export interface Binding {
  namespace: string
  account: string
}

/**
 * The bot's file: chat users bound to accounts, and the secret of each bound account (the
 * bot logs in as it; the secret never leaves this file, which only its owner can read).
 */
export interface BotFile {
  /** By chat user: `xmpp:alice@example.com`, `slack:U024BE7LH`, `console:alice`. */
  bindings: Record<string, Binding>
  /** By `namespace/account`. */
  secrets: Record<string, string>
}

/** The bot's file: MICRO_BOT_FILE, else `bot.json` in the CLI's config directory. */
export function botFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MICRO_BOT_FILE || join(configDirectory(env), 'bot.json')
}

/** `namespace/account`, the key of an account's secret. */
export function accountKey(binding: Binding): string {
  return `${binding.namespace}/${binding.account}`
}

/** A chat user as `<adapter>:<id>`, e.g. `xmpp:alice@example.com`: checked, XMPP's lowercased. */
export function chatUser(text: string): string {
  const match = /^(console|xmpp|slack):(.+)$/.exec(text.trim())
  if (
    !match ||
    match[2]?.length === 0 ||
    (match[2] as string).length > 256 ||
    /\s/.test(match[2] as string)
  ) {
    throw new TypeError(
      `a chat user is <adapter>:<id> (console:alice, xmpp:alice@example.com, slack:U024BE7LH); got ${JSON.stringify(text)}`,
    )
  }
  const [, adapter, id] = match as unknown as [string, string, string]
  return `${adapter}:${adapter === 'xmpp' ? id.toLowerCase() : id}`
}

/** Read the bot's file; a missing one is empty, a broken one an error naming it. */
export async function readBotFile(file: string): Promise<BotFile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { bindings: {}, secrets: {} }
    throw error
  }
  let parsed: Partial<BotFile>
  try {
    parsed = JSON.parse(text) as Partial<BotFile>
  } catch {
    throw new Error(`${file} is not valid JSON: fix or delete it`)
  }
  const object = (value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, never>) : {}
  return { bindings: object(parsed?.bindings), secrets: object(parsed?.secrets) }
}

/** Write the bot's file with mode 0600 (through a temporary file: a crash never leaves half of it). */
export async function writeBotFile(file: string, content: BotFile): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 })
  await chmod(temporary, 0o600)
  await rename(temporary, file)
}

/**
 * The bot's file as a running bot sees it: read again when it changes on disk, so
 * `micro bot bind` takes effect without a restart.
 */
export class BindingsFile {
  readonly path: string
  #content: BotFile = { bindings: {}, secrets: {} }
  #version = ''

  constructor(path: string) {
    this.path = path
  }

  /** The current content (re-read when the file's size or time changed). */
  async current(): Promise<BotFile> {
    let version: string
    try {
      const info = await stat(this.path)
      version = `${info.mtimeMs}:${info.size}:${info.ino}`
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      version = 'missing'
    }
    if (version !== this.#version) {
      this.#content = await readBotFile(this.path)
      this.#version = version
    }
    return this.#content
  }
}
