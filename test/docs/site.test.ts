import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

// The built site (`npm run docs`, which CI runs before the tests): every page the
// navigation links exists, and nothing is loaded from outside the site: no external
// script, stylesheet, font or image in the HTML and CSS, and, in Chromium, no request
// leaves the site while pages load and the local search runs.

const root = fileURLToPath(new URL('../..', import.meta.url))
const site = join(root, 'build/docs')
const built = existsSync(join(site, 'index.html'))
const skip = built ? false : process.env.CI ? false : 'build/docs not built (npm run docs)'
const CHROMIUM = '/usr/bin/chromium'

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files(path, out)
    else out.push(path)
  }
  return out
}

/** External resources a page or stylesheet would load (not links a reader may follow). */
export function externalLoads(text: string, kind: 'html' | 'css'): string[] {
  const found: string[] = []
  const external = /^(https?:)?\/\//i
  if (kind === 'html') {
    for (const m of text.matchAll(/<(script|img|iframe|source|video|audio)\b[^>]*\bsrc="([^"]*)"/gi))
      if (external.test(m[2] as string)) found.push(m[0])
    for (const m of text.matchAll(/<link\b[^>]*>/gi)) {
      const href = /\bhref="([^"]*)"/i.exec(m[0])?.[1] ?? ''
      if (external.test(href) && !/rel="(canonical|alternate)"/i.test(m[0])) found.push(m[0])
    }
  }
  for (const m of text.matchAll(/url\(\s*['"]?([^'")]+)/gi))
    if (external.test(m[1] as string)) found.push(m[0])
  for (const m of text.matchAll(/@import\s+(url\()?\s*['"]?([^'");]+)/gi))
    if (external.test(m[2] as string)) found.push(m[0])
  return found
}

describe('the built documentation site', { skip }, () => {
  test('the external-resource scan finds what it must', () => {
    assert.equal(externalLoads('<script src="https://cdn.example.com/x.js"></script>', 'html').length, 1)
    assert.equal(externalLoads('<link rel="stylesheet" href="//fonts.example.com/a.css">', 'html').length, 1)
    assert.equal(externalLoads('@font-face{src:url(https://fonts.example.com/a.woff2)}', 'css').length, 1)
    assert.equal(externalLoads('<a href="https://github.com/micro/go-micro">Go Micro</a>', 'html').length, 0)
    assert.equal(externalLoads('<script src="/assets/app.js"></script>', 'html').length, 0)
  })

  test('every page of the navigation is built', () => {
    const config = readFileSync(join(root, 'docs/.vitepress/config.mts'), 'utf8')
    const links = [...config.matchAll(/link: '(\/[^']*)'/g)].map((m) => m[1] as string)
    assert.ok(links.length >= 30, `${links.length} links`)
    for (const link of links) {
      const page = link.endsWith('/') ? `${link}index.html` : `${link}.html`
      assert.ok(existsSync(join(site, page)), `${link} -> ${page}`)
    }
    assert.ok(existsSync(join(site, 'api/micro-ts.store.html')), 'the API reference')
  })

  test('no page or stylesheet loads anything from outside the site', () => {
    const problems: string[] = []
    for (const file of files(site)) {
      const ext = extname(file)
      if (ext !== '.html' && ext !== '.css') continue
      for (const load of externalLoads(readFileSync(file, 'utf8'), ext === '.html' ? 'html' : 'css'))
        problems.push(`${file.slice(site.length)}: ${load}`)
    }
    assert.deepEqual(problems, [])
  })

  describe('in Chromium', {
    skip: existsSync(CHROMIUM) ? false : process.env.CI ? false : `no ${CHROMIUM}`,
  }, () => {
    let origin = ''
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      let file = join(site, path.endsWith('/') ? `${path}index.html` : path)
      if (!file.startsWith(site)) file = join(site, '404.html')
      if (!existsSync(file) && existsSync(`${file}.html`)) file = `${file}.html`
      if (!existsSync(file)) {
        res.writeHead(404).end()
        return
      }
      const types: Record<string, string> = {
        '.html': 'text/html',
        '.js': 'text/javascript',
        '.css': 'text/css',
        '.json': 'application/json',
        '.woff2': 'font/woff2',
        '.svg': 'image/svg+xml',
      }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
      res.end(readFileSync(file))
    })
    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    after(() => new Promise<void>((resolve) => server.close(() => resolve())))

    test('pages and the local search request nothing off-site', async () => {
      const { chromium } = await import('playwright-core')
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      try {
        const page = await browser.newPage()
        const offsite: string[] = []
        const onsite: string[] = []
        page.on('request', (r) => {
          const url = r.url()
          if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) onsite.push(url)
          else offsite.push(url)
        })
        for (const path of ['/', '/getting-started.html', '/guide/events.html', '/api/micro-ts.store.html']) {
          const response = await page.goto(origin + path, { waitUntil: 'networkidle' })
          assert.equal(response?.status(), 200, path)
        }
        // The local search: its index is fetched from the site, and it finds a guide.
        await page.click('.DocSearch-Button')
        await page.fill('.VPLocalSearchBox .search-input', 'dead letters')
        await page.waitForSelector('.VPLocalSearchBox .result', { timeout: 30_000 })
        assert.match((await page.textContent('.VPLocalSearchBox .results')) ?? '', /Events/)
        assert.deepEqual(offsite, [])
        assert.ok(
          onsite.some((u) => u.includes('/assets/')),
          'the site loads its own assets',
        )
      } finally {
        await browser.close()
      }
    })
  })
})
