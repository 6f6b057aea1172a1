import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
const [base, out, route, waitText, full] = process.argv.slice(2)
const profile = mkdtempSync(join(tmpdir(), 'shop-chromium-'))
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  viewport: { width: 1360, height: 860 }, colorScheme: 'light', timeout: 60_000,
})
const page = await context.newPage()
page.setDefaultTimeout(15000)
await page.goto(`${base}/${route}`)
if (route.includes('.dead')) {
  const letter = page.locator('details.event', { hasText: 'mail provider is down' }).first()
  await letter.waitFor()
  await letter.locator('summary .mono').first().click()
  await letter.locator('pre.json', { hasText: 'dead-letter-reason' }).waitFor()
} else if (waitText) await page.getByText(waitText).first().waitFor()
await page.waitForTimeout(1500)
await page.screenshot({ path: out, fullPage: full === 'full' })
await context.close()
rmSync(profile, { recursive: true, force: true })
