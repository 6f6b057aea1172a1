import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
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

/**
 * Folders with an index.ts that are not package entries, and why. Every other folder's
 * index.ts must be an entry of the exports map: a block given a public index but left out
 * of package.json (as micro-ts/sidecar was) fails here.
 */
const NOT_ENTRIES: Record<string, string> = {
  logger: 're-exported by micro-ts (createLogger, Logger)',
  service: 're-exported by micro-ts (createService, Service)',
  'features/health': 'a service feature, turned on by service.toml or createService options',
  'features/logging': 'a service feature, turned on by service.toml or createService options',
  'features/metrics': 'a service feature, turned on by service.toml or createService options',
  'features/tracing': 'a service feature, turned on by service.toml or createService options',
  'features/tracing/export': "the tracing feature's exporter",
  'platform/dev': "micro run's dev loop: reached through the CLI",
  'platform/openapi':
    "the gateway's and server's OpenAPI document: reached through micro-ts/gateway and the CLI",
  'platform/runtime': "micro server's runtime: reached through the CLI",
  'platform/server': 'micro server: reached through the CLI',
  'platform/services': "micro server's building-block services: reached through the CLI",
  'platform/traces': "micro server's OTLP receiver and trace store: reached through the CLI",
}

/** Every `src/<dir>/index.ts` below src/ (not src/index.ts itself), as `<dir>`. */
function indexFolders(dir = new URL('../src/', import.meta.url), prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => {
      const path = `${prefix}${e.name}`
      const here = existsSync(new URL(`${e.name}/index.ts`, dir)) ? [path] : []
      return [...here, ...indexFolders(new URL(`${e.name}/`, dir), `${path}/`)]
    })
}

test('every public index.ts under src/ is an entry of the exports map (micro-ts/sidecar among them)', () => {
  const targets = Object.values(pkg.exports).flatMap((t) =>
    typeof t === 'string' ? [] : [(t as { default: string }).default],
  )
  const missing = indexFolders().filter(
    (folder) => !(folder in NOT_ENTRIES) && !targets.includes(`./dist/${folder}/index.js`),
  )
  assert.deepEqual(
    missing,
    [],
    `add to package.json exports, or to NOT_ENTRIES with a reason: ${missing.join(', ')}`,
  )
  assert.ok(entries.includes(`${pkg.name}/sidecar`))
  // Each entry's types and code are where the map says (the build wrote them).
  for (const t of Object.values(pkg.exports)) {
    if (typeof t === 'string') continue
    const { types, default: code } = t as { types: string; default: string }
    assert.ok(existsSync(new URL(`../${types}`, import.meta.url)), types)
    assert.ok(existsSync(new URL(`../${code}`, import.meta.url)), code)
  }
})

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
