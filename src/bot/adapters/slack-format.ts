import type { Reply } from '../reply.js'

/**
 * Slack's message text as the command the user typed: the bot's mention dropped, links
 * and mentions back to their text, `&amp;` `&lt;` `&gt;` decoded, typographic quotes
 * (which Slack clients put in) made plain, and a command sent as `code` or a ```block```
 * unwrapped.
 */
export function slackText(raw: string, botUserId?: string): string {
  let text = raw
  if (botUserId) text = text.replaceAll(`<@${botUserId}>`, ' ')
  text = text
    // <http://x|label> and <mailto:a@b|label>: what the user typed is the label
    .replace(/<((?:https?|mailto):[^>|]*)\|([^>]*)>/g, '$2')
    .replace(/<((?:https?|mailto):[^>|]*)>/g, '$1')
    // <@U123>, <#C123|general>, <!here>: the id or name, without the brackets
    .replace(/<[@#!]([^>|]*)\|([^>]*)>/g, '$2')
    .replace(/<([@#!][^>]*)>/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .replace(/[\u201c\u201d\u201e\u201f]/g, '"')
    .replace(/[\u2018\u2019\u201a\u201b]/g, "'")
    .trim()
  const block = /^```\n?([\s\S]*?)\n?```$/.exec(text)
  if (block) return (block[1] as string).trim()
  const inline = /^`([^`]*)`$/.exec(text)
  if (inline) return (inline[1] as string).trim()
  return text
}

/** Text for Slack: `&`, `<` and `>` escaped (Slack reads them as markup otherwise). */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/**
 * A reply in Slack's mrkdwn: text escaped, code in ``` blocks (a ``` inside is broken
 * with a zero-width space so it cannot close the block early).
 */
export function renderSlack(reply: Reply): string {
  return reply.blocks
    .map((block) =>
      block.kind === 'code'
        ? `\`\`\`\n${slackEscape(block.text).replaceAll('```', '`\u200b``')}\n\`\`\``
        : slackEscape(block.text),
    )
    .join('\n')
}
