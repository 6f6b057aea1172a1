/**
 * What the bot answers, before an adapter renders it for its chat: text the bot writes,
 * and code (a command's output: JSON, tables, log lines) that must keep its spacing.
 */

/** How a message ended, for the reply's tone and the audit. */
export type ReplyStatus = 'ok' | 'error' | 'denied' | 'bad-input' | 'limited' | 'timeout'

export type ReplyBlock = { kind: 'text'; text: string } | { kind: 'code'; text: string }

export interface Reply {
  status: ReplyStatus
  blocks: ReplyBlock[]
}

/** A reply of one text block. */
export function textReply(status: ReplyStatus, text: string): Reply {
  return { status, blocks: [{ kind: 'text', text }] }
}

/**
 * `reply` cut to at most `maxChars` characters of content: the last block that does not
 * fit is cut at a line boundary (a single huge line is cut inside) and a note says how much
 * was left out and how to see it.
 */
export function truncateReply(reply: Reply, maxChars: number): Reply {
  const total = reply.blocks.reduce((n, b) => n + b.text.length, 0)
  if (total <= maxChars) return reply
  const blocks: ReplyBlock[] = []
  let left = maxChars
  let cutLines = 0
  let cutChars = 0
  for (const block of reply.blocks) {
    if (left <= 0) {
      cutChars += block.text.length
      cutLines += lineCount(block.text)
      continue
    }
    if (block.text.length <= left) {
      blocks.push(block)
      left -= block.text.length
      continue
    }
    const newline = block.text.lastIndexOf('\n', left)
    const keep = newline > left / 2 ? newline : left
    const kept = block.text.slice(0, keep)
    const dropped = block.text.slice(keep).replace(/^\n/, '')
    blocks.push({ ...block, text: kept })
    cutChars += dropped.length
    cutLines += lineCount(dropped)
    left = 0
  }
  blocks.push({
    kind: 'text',
    text: `… truncated: ${cutLines} more line${cutLines === 1 ? '' : 's'} (${cutChars} characters) not shown; narrow the command (e.g. -n, a name) or use the CLI`,
  })
  return { status: reply.status, blocks }
}

function lineCount(text: string): number {
  return text === '' ? 0 : text.split('\n').length
}

/** Each line of `text` at most `width` characters; longer ones end with `…`. */
export function trimLines(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => ([...line].length > width ? `${[...line].slice(0, width - 1).join('')}…` : line))
    .join('\n')
}

/** Terminal escape sequences (colours, cursor moves) a service's output may hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding terminal escapes is its job
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g
/** Other control characters, the bidirectional overrides included. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * `reply` with terminal escapes removed and other control characters shown as U+FFFD: a
 * service's output must not recolour or rewrite the console the bot runs in, nor break a
 * chat protocol.
 */
export function cleanReply(reply: Reply): Reply {
  return {
    status: reply.status,
    blocks: reply.blocks.map((b) => ({
      ...b,
      text: b.text.replace(ESCAPES, '').replace(CONTROLS, '\uFFFD'),
    })),
  }
}
