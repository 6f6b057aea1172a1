// Measures the dashboard's first paint with 200 services and 1,000 endpoints registered, in
// headless Chromium. A measurement, not a test: run it on a quiet machine with
//   npm run build && node --import tsx test/dashboard/first-paint.ts
// It prints first contentful paint, the time until the service table shows all 200
// services, and the time the catalog's search takes to filter 1,000 endpoints.
import { launchBrowser } from '../support/dashboard/browser.js'
import { startFixture } from '../support/dashboard/fixture.js'

const RUNS = 5
// 198 services of 5 endpoints, plus greeter and orders: 200 services, 994 + 4 endpoints.
const f = await startFixture({ runtime: false, extraServices: 198 })
const browser = await launchBrowser()
try {
  const rows: { fcp: number; table: number; search: number }[] = []
  for (let run = 0; run < RUNS; run++) {
    const page = await browser.context.newPage()
    const started = Date.now()
    await page.goto(`${f.url}/`)
    await page.locator('table.list tbody tr').nth(199).waitFor({ timeout: 30_000 })
    const table = Date.now() - started
    const fcp = (await page.evaluate(
      "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1",
    )) as number
    await page.goto(`${f.url}/#/services`)
    await page.locator('.virtual .row').first().waitFor()
    const searchStart = Date.now()
    await page.fill('[data-search]', 'svc-150 update')
    await page.locator('.virtual .row', { hasText: 'svc150.Update' }).waitFor()
    rows.push({ fcp, table, search: Date.now() - searchStart })
    await page.close()
  }
  const median = (k: keyof (typeof rows)[number]) =>
    rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(RUNS / 2)]
  console.log(
    JSON.stringify(
      {
        services: 200,
        runs: rows,
        median: { fcp: median('fcp'), table: median('table'), search: median('search') },
      },
      null,
      2,
    ),
  )
} finally {
  await browser.close()
  await f.close()
}
process.exit(0)
