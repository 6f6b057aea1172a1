// Headless Chromium for the dashboard's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a browser download). Without it the tests skip with a reason,
// except in CI, where a missing browser is a failure.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'

export const CHROMIUM = process.env.MICRO_TEST_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or false when they can. */
export function browserSkip(): string | false {
  if (existsSync(CHROMIUM)) return false
  if (process.env.CI === 'true')
    throw new Error(`CI: chromium is missing at ${CHROMIUM} (.ci/run installs it)`)
  return `no chromium at ${CHROMIUM} (apt-get install chromium)`
}

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
]

/** A fresh browser profile (its own user-data-dir); `close` removes it. */
export async function launchBrowser(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<{
  context: BrowserContext
  close(): Promise<void>
}> {
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'micro-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 860 },
    colorScheme: options.colorScheme ?? 'light',
    timeout: 60_000,
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
