import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

/**
 * What users can import: every entry of package.json's exports map, loaded by the
 * package's own name as users load it (from dist/, which `npm test` builds first).
 * Internal machinery must stay out, and names must say what they are.
 */

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string
  exports: Record<string, unknown>
}
const entries = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`))

/** Internal classes, codec helpers and process-wide tables: no entry may export them. */
const INTERNAL = [
  // the micro protocol's frame reader and writer and their tables
  'FrameParser',
  'FrameWriter',
  'ProtocolError',
  'KNOWN_HEADERS',
  'FrameFlag',
  'FrameType',
  'PROTOCOL_VERSION',
  // the server's per-call object and the client's retry machinery
  'ServedCall',
  'RetryPolicy',
  // process-wide tables (reached through createRegistry('memory'), createBroker('memory') ...)
  'localServices',
  'LocalServices',
  'sharedMemoryRegistry',
  'sharedMemoryHub',
  'sharedMemoryEvents',
  'sharedLockTable',
  // helpers of the implementations
  'WatchHub',
  'cloneService',
  'encodeEnvelope',
  'decodeEnvelope',
]

/** Names too generic to say what they are, renamed; none may come back. */
const GENERIC = ['env', 'file', 'flags', 'memory', 'store', 'client']

/** Where each renamed name must be found. */
const RENAMED: Record<string, string[]> = {
  [pkg.name]: ['envSource', 'fileSource', 'flagsSource', 'memorySource', 'clientSpec'],
  [`${pkg.name}/config`]: ['envSource', 'fileSource', 'flagsSource', 'memorySource', 'storeSource'],
  [`${pkg.name}/definition`]: ['clientSpec'],
}

test('the exports map has the entries this test knows', () => {
  for (const entry of Object.keys(RENAMED)) assert.ok(entries.includes(entry), entry)
  assert.ok(entries.length >= 15, entries.join(', '))
})

for (const entry of entries) {
  test(`${entry}: no internal or generic names; renamed ones present`, async () => {
    const module = (await import(entry)) as Record<string, unknown>
    const names = Object.keys(module)
    assert.ok(names.length > 0, `${entry} exports nothing`)
    assert.deepEqual(
      names.filter((name) => INTERNAL.includes(name)),
      [],
      `${entry} exports internal names`,
    )
    assert.deepEqual(
      names.filter((name) => GENERIC.includes(name)),
      [],
      `${entry} exports generic names`,
    )
    for (const name of RENAMED[entry] ?? []) assert.equal(typeof module[name], 'function', `${entry} ${name}`)
  })
}
