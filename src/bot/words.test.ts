// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings test that ${...} is never expanded
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CommandInputError, joinWords, splitWords } from './words.js'

test('words split like a shell splits them, with nothing expanded', () => {
  assert.deepEqual(splitWords('services'), ['services'])
  assert.deepEqual(splitWords('  call  greeter\tGreeter.Hello  '), ['call', 'greeter', 'Greeter.Hello'])
  assert.deepEqual(splitWords(`call greeter Greeter.Hello '{"name": "Alice B"}'`), [
    'call',
    'greeter',
    'Greeter.Hello',
    '{"name": "Alice B"}',
  ])
  assert.deepEqual(splitWords("say \"a \\\"quoted\\\" \\\\ word\" 'it'\\''s'"), [
    'say',
    'a "quoted" \\ word',
    "it's",
  ])
  // In double quotes a backslash escapes only what the shell lets it; elsewhere it is kept.
  assert.deepEqual(splitWords('"a\\nb"'), ['a\\nb'])
  assert.deepEqual(splitWords('a\\ b'), ['a b'])
  assert.deepEqual(splitWords("''"), [''])
  assert.deepEqual(splitWords('--name=x"y z"'), ['--name=xy z'])
  assert.deepEqual(splitWords(''), [])
})

test('shell syntax is text inside quotes and an error outside them', () => {
  assert.deepEqual(splitWords(`'; rm -rf / $(id) \`id\` | & > < \${HOME}'`), [
    '; rm -rf / $(id) `id` | & > < ${HOME}',
  ])
  assert.deepEqual(splitWords('"$(id) `id` $HOME"'), ['$(id) `id` $HOME'])
  assert.deepEqual(splitWords('a\\;b'), ['a;b'])
  // A lone $ is just a character (prices, regexes).
  assert.deepEqual(splitWords('--price=$5'), ['--price=$5'])
  for (const [text, shown] of [
    ['services; rm -rf /', ';'],
    ['services && reboot', '&'],
    ['services | sh', '|'],
    ['services > out', '>'],
    ['services < in', '<'],
    ['echo `id`', '`'],
    ['echo $(id)', '$('],
    ['echo ${HOME}', '${'],
  ] as const) {
    assert.throws(
      () => splitWords(text),
      (error: unknown) =>
        error instanceof CommandInputError && error.message.startsWith(`${shown} is shell syntax`),
      text,
    )
  }
})

test('line breaks: one command per message; quoted ones are kept; trailing ones ignored', () => {
  assert.throws(() => splitWords('services\nrm -rf /'), /one command per message/)
  assert.throws(() => splitWords('services\r\nkill all'), /one command per message/)
  assert.deepEqual(splitWords('call a B \'{\n"x": 1\n}\''), ['call', 'a', 'B', '{\n"x": 1\n}'])
  assert.deepEqual(splitWords('services\n'), ['services'])
  assert.deepEqual(splitWords('services\r\n  \n'), ['services'])
})

test('broken input is a clear error', () => {
  assert.throws(() => splitWords("call '{"), /unterminated ' quote \(opened at character 6\)/)
  assert.throws(() => splitWords('call "{'), /unterminated " quote/)
  assert.throws(() => splitWords('call \\'), /backslash at the end/)
  assert.throws(() => splitWords('a\u0000b'), /control character \(U\+0000\)/)
  assert.throws(() => splitWords("'a\u001bb'"), /control character \(U\+001B\)/)
  assert.throws(() => splitWords('a \u202eb'), /control character \(U\+202E\)/)
  assert.throws(() => splitWords('a '.repeat(65)), /too many words: at most 64/)
  assert.equal(splitWords('a '.repeat(64)).length, 64)
  assert.throws(() => splitWords('a b c', { maxWords: 2 }), /at most 2/)
})

test('unicode passes through untouched', () => {
  assert.deepEqual(splitWords('greeter hello --name=Zoë 🚀 "日本 語"'), [
    'greeter',
    'hello',
    '--name=Zoë',
    '🚀',
    '日本 語',
  ])
})

test('joinWords quotes what needs it, and splitWords reads it back', () => {
  const words = ['call', 'greeter', 'Greeter.Hello', '{"name":"it\'s"}', '', 'a b', '[redacted]']
  const line = joinWords(words)
  assert.equal(line, `call greeter Greeter.Hello '{"name":"it'\\''s"}' '' 'a b' [redacted]`)
  assert.deepEqual(splitWords(line), words)
})

test('a very long message costs linear time', () => {
  const words = splitWords(`x ${'"a"'.repeat(50_000)}`)
  assert.equal(words[1]?.length, 50_000)
})
