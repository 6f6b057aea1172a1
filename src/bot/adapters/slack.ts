import type { Logger } from '../../logger/logger.js'
import { importPeer } from '../../util/optional-import.js'
import type { ChatAdapter, MessageHandler } from './adapter.js'
import { renderSlack, slackText } from './slack-format.js'

/** The app's tokens (MICRO_BOT_SLACK_APP_TOKEN, MICRO_BOT_SLACK_BOT_TOKEN): never logged. */
export interface SlackSettings {
  /** `xapp-...`: an app-level token with `connections:write`, for Socket Mode. */
  appToken: string
  /** `xoxb-...`: the bot user's token. */
  botToken: string
  logger?: Logger
}

/** The fields of a Slack message or app_mention event the adapter reads. */
export interface SlackEvent {
  type?: string
  subtype?: string
  channel_type?: string
  user?: string
  bot_id?: string
  text?: string
  ts?: string
  thread_ts?: string
}

/** Bolt's `say`: posts to the event's conversation. */
export type Say = (message: { text: string; thread_ts?: string; mrkdwn?: boolean }) => Promise<unknown>

/** What Bolt hands a listener, as far as the adapter uses it. */
export interface SlackListenerArgs {
  message?: SlackEvent
  event?: SlackEvent
  say: Say
  context?: { botUserId?: string }
}

/** The parts of Bolt's `App` the adapter uses. */
interface BoltApp {
  message(listener: (args: SlackListenerArgs) => Promise<void>): void
  event(name: string, listener: (args: SlackListenerArgs) => Promise<void>): void
  error(handler: (error: Error) => Promise<void>): void
  init(): Promise<void>
  start(): Promise<unknown>
  stop(): Promise<unknown>
}

interface BoltModule {
  App: new (options: Record<string, unknown>) => BoltApp
}

/** Messages people typed: no edits, joins or bots (the bot's own replies included). */
function typedByPerson(event: SlackEvent): event is SlackEvent & { user: string; text: string } {
  return (
    event.subtype === undefined &&
    event.bot_id === undefined &&
    !!event.user &&
    typeof event.text === 'string'
  )
}

/**
 * A direct message to the bot: the whole text is the command; the reply goes to the same
 * conversation. Other messages (channels, edits, bots) are not the bot's to answer.
 */
export async function onDirectMessage(handler: MessageHandler, args: SlackListenerArgs): Promise<void> {
  const message = args.message
  if (message === undefined || message.channel_type !== 'im' || !typedByPerson(message)) return
  const reply = await handler({
    adapter: 'slack',
    user: `slack:${message.user}`,
    text: slackText(message.text),
  })
  await args.say({ text: renderSlack(reply), mrkdwn: true })
}

/** `@bot services` in a channel: the text after the mention is the command; the reply goes in a thread. */
export async function onMention(handler: MessageHandler, args: SlackListenerArgs): Promise<void> {
  const event = args.event
  if (event === undefined || !typedByPerson(event)) return
  const text = slackText(event.text, args.context?.botUserId)
  const reply = await handler({ adapter: 'slack', user: `slack:${event.user}`, text })
  await args.say({ text: renderSlack(reply), thread_ts: event.thread_ts ?? event.ts, mrkdwn: true })
}

/** Check the tokens' kinds without ever showing them. */
function checkTokens(settings: SlackSettings): void {
  if (!settings.appToken.startsWith('xapp-'))
    throw new TypeError(
      'MICRO_BOT_SLACK_APP_TOKEN must be an app-level token (xapp-...) with connections:write',
    )
  if (!settings.botToken.startsWith('xoxb-'))
    throw new TypeError('MICRO_BOT_SLACK_BOT_TOKEN must be a bot token (xoxb-...)')
}

/**
 * A Bolt app in Socket Mode with the adapter's listeners (`@slack/bolt` is loaded here, on
 * first use). It is not initialised: `init()` checks the bot token with Slack, `start()`
 * opens the Socket Mode connection.
 */
export async function createSlackApp(settings: SlackSettings, handler: MessageHandler): Promise<BoltApp> {
  checkTokens(settings)
  const { App } = await importPeer<BoltModule>('@slack/bolt', 'the Slack adapter of micro bot')
  // Initialised by start(): building the app and registering listeners talks to nobody.
  const app = new App({
    token: settings.botToken,
    appToken: settings.appToken,
    socketMode: true,
    logLevel: 'warn',
    deferInitialization: true,
  })
  app.message((args) => onDirectMessage(handler, args))
  app.event('app_mention', (args) => onMention(handler, args))
  app.error(async (error) => settings.logger?.warn('bot: slack', { error: error.message }))
  return app
}

/**
 * The bot on Slack through Bolt's Socket Mode (no public HTTP endpoint needed): direct
 * messages and mentions are commands; replies are mrkdwn, mentions answered in a thread.
 */
export class SlackAdapter implements ChatAdapter {
  readonly name = 'slack'
  readonly #settings: SlackSettings
  #app: BoltApp | undefined

  constructor(settings: SlackSettings) {
    checkTokens(settings)
    this.#settings = settings
  }

  async start(handler: MessageHandler): Promise<void> {
    this.#app = await createSlackApp(this.#settings, handler)
    await this.#app.init()
    await this.#app.start()
  }

  async stop(): Promise<void> {
    const app = this.#app
    this.#app = undefined
    await app?.stop()
  }
}
