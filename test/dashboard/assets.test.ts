// The built UI: within its size budget, self-contained (no CDN), precompressed, and served
// with the right caching and security headers.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { type Fixture, startFixture } from '../support/dashboard/fixture.js'

const DIR = 'dist/dashboard'
/** The budget for the first page's assets, gzipped. */
const BUDGET = 300 * 1024

async function ensureBuilt(): Promise<void> {
  if (existsSync(join(DIR, 'index.html'))) return
  // @ts-expect-error: a plain .mjs build script, without types
  const { buildDashboard } = await import('../../scripts/build-dashboard.mjs')
  await buildDashboard()
}

/** The files index.html loads. */
function firstPageAssets(): string[] {
  const html = readFileSync(join(DIR, 'index.html'), 'utf8')
  return [...html.matchAll(/(?:href|src)="\/dashboard\/([^"]+)"/g)].map((m) => m[1] as string)
}

describe('dashboard assets', () => {
  let f: Fixture
  before(async () => {
    await ensureBuilt()
    f = await startFixture({ runtime: false })
  })
  after(() => f.close())

  test(`the first page's assets are within ${BUDGET / 1024} KB gzipped`, () => {
    const files = ['index.html', ...firstPageAssets()]
    assert.ok(files.some((f) => f.endsWith('.js')) && files.some((f) => f.endsWith('.css')), files.join(', '))
    const total = files.reduce(
      (sum, file) => sum + gzipSync(readFileSync(join(DIR, file)), { level: 9 }).length,
      0,
    )
    assert.ok(total <= BUDGET, `${total} bytes gzipped`)
  })

  test('nothing is loaded from another origin: no URL with a scheme in the page, script or styles', () => {
    for (const file of ['index.html', ...firstPageAssets()]) {
      const text = readFileSync(join(DIR, file), 'utf8')
      const urls = [
        ...text.matchAll(/(?:src|href)\s*=\s*["']?(https?:)?\/\/[^"'\s>]+/g),
        ...text.matchAll(/url\(\s*["']?https?:/g),
        ...text.matchAll(/@import\s/g),
      ]
      assert.deepEqual(
        urls.map((m) => m[0]),
        [],
        file,
      )
    }
  })

  test('served precompressed, immutable when hashed, revalidated for index.html, with a strict CSP', async () => {
    const [script] = firstPageAssets().filter((a) => a.endsWith('.js'))
    const index = await fetch(`${f.url}/`, { headers: { 'accept-encoding': 'br, gzip' } })
    assert.equal(index.status, 200)
    assert.equal(index.headers.get('cache-control'), 'no-cache')
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'/)
    assert.equal(index.headers.get('x-frame-options'), 'DENY')
    assert.match(await index.text(), /<div id="app">/)
    const gz = await fetch(`${f.url}/dashboard/${script}`, { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(gz.headers.get('content-encoding'), 'gzip')
    assert.equal(gz.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    assert.equal(gz.headers.get('content-type'), 'text/javascript; charset=utf-8')
    // fetch decodes: the text is the script itself.
    assert.equal(await gz.text(), readFileSync(join(DIR, script as string), 'utf8'))
    const br = await fetch(`${f.url}/dashboard/${script}`, { headers: { 'accept-encoding': 'br' } })
    assert.equal(br.headers.get('content-encoding'), 'br')
    await br.arrayBuffer()
    const etag = gz.headers.get('etag') as string
    const again = await fetch(`${f.url}/dashboard/${script}`, { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
  })

  test('what the dashboard does not own is left to the next handler; bad asset paths are 404', async () => {
    assert.equal((await fetch(`${f.url}/dashboard/assets/nope.js`)).status, 404)
    assert.equal((await fetch(`${f.url}/dashboard/assets/..%2F..%2Fpackage.json`)).status, 404)
    // A dot-dot path is normalised before it reaches a handler: /package.json is not ours.
    assert.equal(await (await fetch(`${f.url}/dashboard/../package.json`)).text(), 'not the dashboard')
    assert.equal((await fetch(`${f.url}/`, { method: 'POST' })).status, 405)
    assert.equal(await (await fetch(`${f.url}/rpc`)).text(), 'not the dashboard')
    assert.equal(await (await fetch(`${f.url}/dashboardx`)).text(), 'not the dashboard')
  })
})
