import { isLoopbackAddress } from '../../auth/mode.js'
import type { Logger } from '../../logger/logger.js'
import { importPeer } from '../../util/optional-import.js'
import type { ChatAdapter, MessageHandler } from './adapter.js'
import { renderPlain } from './plain.js'

/** Where and as whom the bot logs in (MICRO_BOT_XMPP_*). */
export interface XmppSettings {
  /** The bot's account: `bot@example.com`. */
  jid: string
  /** Never logged, never in an error. */
  password: string
  /** `xmpp://host:5222` (STARTTLS when offered) or `xmpps://host:5223`; default `xmpp://<domain>:5222`. */
  service?: string
  /** Default `micro-bot`. */
  resource?: string
  /**
   * Talk without TLS to a server that is not on loopback. Default false: the bot stops
   * there (commands and replies would cross the network in clear).
   */
  allowInsecure?: boolean
  logger?: Logger
}

/** The parts of an `@xmpp/client` stanza the adapter reads. */
interface Stanza {
  name: string
  attrs: Record<string, string | undefined>
  is(name: string): boolean
  getChildText(name: string): string | null
  getChild(name: string, xmlns?: string): unknown
}

/** The parts of `@xmpp/client` the adapter uses (it ships no types). */
interface XmppClient {
  on(event: 'stanza', listener: (stanza: Stanza) => void): void
  on(event: 'online', listener: () => void): void
  on(event: 'error', listener: (error: Error) => void): void
  on(event: 'status', listener: (status: string) => void): void
  start(): Promise<unknown>
  stop(): Promise<unknown>
  send(element: unknown): Promise<void>
  isSecure(): boolean
}

interface XmppModule {
  client(options: Record<string, unknown>): XmppClient
  xml(name: string, attrs?: Record<string, string>, ...children: unknown[]): unknown
}

/** `local@domain/resource` into its parts; a TypeError for anything else. */
export function parseJid(jid: string): { local: string; domain: string; resource?: string } {
  const match = /^([^@/\s]+)@([^@/\s]+)(?:\/(.+))?$/.exec(jid.trim())
  if (!match)
    throw new TypeError(`an XMPP address is local@domain, e.g. bot@example.com; got ${JSON.stringify(jid)}`)
  const [, local, domain, resource] = match as unknown as [string, string, string, string | undefined]
  return { local, domain, ...(resource ? { resource } : {}) }
}

/** The chat user a message comes from: `xmpp:` and its bare address, lowercased. */
export function xmppUser(from: string): string {
  const slash = from.indexOf('/')
  return `xmpp:${(slash < 0 ? from : from.slice(0, slash)).toLowerCase()}`
}

/**
 * Characters XML 1.0 cannot carry (C0 controls but tab and line breaks, lone surrogates,
 * U+FFFE/U+FFFF): one in a stanza makes the server close the stream, so they become U+FFFD.
 */
export function xmlSafe(text: string): string {
  return text.replace(
    /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu,
    (char) => (char.length === 2 ? char : '\uFFFD'),
  )
}

/**
 * The bot on XMPP through `@xmpp/client` (an optional dependency, loaded when used): it
 * logs in as its own account, shows itself available, and answers each one-to-one message
 * (type chat or normal) with a plain-text reply to the sender. Messages the server kept
 * while the bot was away (XEP-0203 delay) are not run: an old command could do harm now.
 */
export class XmppAdapter implements ChatAdapter {
  readonly name = 'xmpp'
  readonly #settings: XmppSettings
  #xmpp: XmppClient | undefined

  constructor(settings: XmppSettings) {
    parseJid(settings.jid)
    if (settings.password === '') throw new TypeError('the XMPP password is empty (MICRO_BOT_XMPP_PASSWORD)')
    this.#settings = settings
  }

  async start(handler: MessageHandler): Promise<void> {
    const { client, xml } = await importPeer<XmppModule>('@xmpp/client', 'the XMPP adapter of micro bot')
    const { local, domain, resource } = parseJid(this.#settings.jid)
    const service = this.#settings.service ?? `xmpp://${domain}:5222`
    const host = new URL(service).hostname.replace(/^\[|\]$/g, '')
    const logger = this.#settings.logger
    const xmpp = client({
      service,
      domain,
      username: local,
      password: this.#settings.password,
      resource: this.#settings.resource ?? resource ?? 'micro-bot',
    })
    this.#xmpp = xmpp
    const own = `xmpp:${local}@${domain}`.toLowerCase()
    let presence: Promise<unknown> = Promise.resolve()
    xmpp.on('error', (error) => logger?.warn('bot: xmpp', { error: error.message }))
    xmpp.on('online', () => {
      if (!xmpp.isSecure() && !isLoopbackAddress(host) && !this.#settings.allowInsecure) {
        logger?.error('bot: xmpp connection is not encrypted and the server is not on loopback: stopping', {
          service,
        })
        xmpp.stop().catch(() => {})
        return
      }
      // Available, so the server hands it what is sent to its bare address.
      presence = xmpp
        .send(xml('presence'))
        .catch((error: Error) => logger?.warn('bot: xmpp presence', { error: error.message }))
    })
    xmpp.on('stanza', (stanza) => {
      this.#onStanza(stanza, own, handler, xml).catch((error: Error) =>
        logger?.warn('bot: xmpp reply failed', { error: error.message }),
      )
    })
    try {
      await xmpp.start()
    } catch (error) {
      // Not left reconnecting in the background with credentials that do not work.
      this.#xmpp = undefined
      await xmpp.stop().catch(() => {})
      throw new Error(
        `the bot could not log in to XMPP as ${local}@${domain} at ${service}: ${(error as Error).message}`,
      )
    }
    await presence
  }

  async stop(): Promise<void> {
    const xmpp = this.#xmpp
    this.#xmpp = undefined
    await xmpp?.stop().catch(() => {})
  }

  async #onStanza(
    stanza: Stanza,
    own: string,
    handler: MessageHandler,
    xml: XmppModule['xml'],
  ): Promise<void> {
    if (!stanza.is('message')) return
    const type = stanza.attrs.type ?? 'normal'
    const from = stanza.attrs.from
    if ((type !== 'chat' && type !== 'normal') || from === undefined) return
    const body = stanza.getChildText('body')
    if (body === null || body.trim() === '') return
    const user = xmppUser(from)
    if (user === own) return
    const answer = (text: string) =>
      this.#xmpp?.send(xml('message', { to: from, type }, xml('body', {}, xmlSafe(text))))
    if (stanza.getChild('delay', 'urn:xmpp:delay') !== undefined) {
      await answer('not run: this message waited while the bot was away; send it again if it still applies')
      return
    }
    const reply = await handler({ adapter: 'xmpp', user, text: body })
    await answer(renderPlain(reply))
  }
}
