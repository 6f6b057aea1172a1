import type { ChatMessage } from '../bot.js'
import type { Reply } from '../reply.js'

/** What an adapter hands each message to: the bot's `handle`. */
export type MessageHandler = (message: ChatMessage) => Promise<Reply>

/**
 * A chat service the bot sits in: it receives messages, hands each to the bot, and sends
 * the reply back rendered for that chat (Slack mrkdwn, XMPP plain text, the console).
 */
export interface ChatAdapter {
  /** `console`, `xmpp`, `slack`: the prefix of its users' ids. */
  readonly name: string
  /** Connect and start handing messages to `handler`; resolves once connected. */
  start(handler: MessageHandler): Promise<void>
  /** Disconnect; messages being answered may finish. */
  stop(): Promise<void>
}
