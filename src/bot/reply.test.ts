import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderPlain } from './adapters/plain.js'
import { renderSlack } from './adapters/slack-format.js'
import { xmlSafe } from './adapters/xmpp.js'
import { servicesTable } from './output.js'
import { cleanReply, type Reply, trimLines, truncateReply } from './reply.js'

const code = (text: string): Reply => ({ status: 'ok', blocks: [{ kind: 'code', text }] })

test('a reply within the limit is left as it is', () => {
  const reply = code('a\nb')
  assert.equal(truncateReply(reply, 10), reply)
})

test('a long reply is cut at a line and says how much is left out', () => {
  const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n')
  const cut = truncateReply(code(text), 50)
  const [kept, note] = cut.blocks
  assert.equal(kept?.kind, 'code')
  assert.ok((kept?.text.length ?? 0) <= 50)
  assert.ok(kept?.text.endsWith('line 6'), kept?.text)
  assert.equal(note?.kind, 'text')
  assert.match(note?.text ?? '', /^… truncated: 93 more lines \(\d+ characters\) not shown/)
  const dropped = Number(/\((\d+) characters\)/.exec(note?.text ?? '')?.[1])
  assert.equal((kept?.text.length ?? 0) + 1 + dropped, text.length)
})

test('one huge line is cut inside; later blocks are counted as left out', () => {
  const cut = truncateReply(
    {
      status: 'ok',
      blocks: [
        { kind: 'code', text: 'x'.repeat(1000) },
        { kind: 'text', text: 'after' },
      ],
    },
    100,
  )
  assert.equal(cut.blocks[0]?.text, 'x'.repeat(100))
  assert.match(cut.blocks[1]?.text ?? '', /truncated: 2 more lines \(905 characters\)/)
})

test('trimLines cuts at a width by characters, not bytes', () => {
  assert.equal(trimLines('short\n' + '🚀'.repeat(20), 10), `short\n${'🚀'.repeat(9)}…`)
})

test('cleanReply drops terminal escapes and shows other controls as U+FFFD', () => {
  const clean = cleanReply({
    status: 'ok',
    blocks: [
      { kind: 'code', text: '\u001b[1;31mred\u001b[0m\ttab\nbell\u0007 \u202eevil \u001b]0;title\u0007x' },
    ],
  })
  assert.equal(clean.blocks[0]?.text, 'red\ttab\nbell\uFFFD \uFFFDevil x')
})

test('rendering: plain text keeps code as is; Slack escapes and fences it', () => {
  const reply: Reply = {
    status: 'denied',
    blocks: [
      { kind: 'text', text: 'not allowed: <b> & "x"' },
      { kind: 'code', text: 'a < b && c\n```inner```' },
    ],
  }
  assert.equal(renderPlain(reply), 'not allowed: <b> & "x"\n\na < b && c\n```inner```')
  assert.equal(
    renderSlack(reply),
    'not allowed: &lt;b&gt; &amp; "x"\n```\na &lt; b &amp;&amp; c\n`\u200b``inner`\u200b``\n```',
  )
})

test('xmlSafe replaces what XML 1.0 cannot carry and keeps the rest', () => {
  assert.equal(xmlSafe('ok 🚀 <&> \t\n'), 'ok 🚀 <&> \t\n')
  assert.equal(xmlSafe('a\u0000b\u0008c\uFFFEd\uD800e'), 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe')
})

test('the services table from JSON; anything else is not a table', () => {
  const json = JSON.stringify([
    {
      name: 'greeter',
      version: '1.0.0',
      nodes: [{}, {}],
      endpoints: [{ name: 'Greeter.Hello' }, { name: 'Greeter.Chat' }],
    },
    { name: 'empty', version: '', nodes: [], endpoints: [] },
  ])
  assert.equal(
    servicesTable(json, 100),
    'NAME     VERSION  NODES  ENDPOINTS\ngreeter  1.0.0    2      Greeter.Hello, Greeter.Chat\nempty    -        0      -',
  )
  assert.equal(servicesTable('[]', 100), 'no services')
  assert.equal(servicesTable('Usage: micro services', 100), undefined)
  assert.equal(servicesTable('{"a":1}', 100), undefined)
})
