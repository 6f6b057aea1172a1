import type { Reply } from '../reply.js'

/**
 * A reply as plain text (the console, XMPP): blocks one after the other; code is kept as
 * it is, set off by a blank line when text surrounds it, so a monospace client lines
 * tables up and a proportional one still reads it.
 */
export function renderPlain(reply: Reply): string {
  const parts: string[] = []
  for (const block of reply.blocks) {
    if (block.kind === 'code' && parts.length > 0) parts.push('')
    parts.push(block.text)
  }
  return parts.join('\n')
}
