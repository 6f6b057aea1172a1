// What a documentation block runs in: a temporary home (so ~/.micro is its own), its own
// CLI config and namespace, the loopback servers' URLs under the names the pages use, and
// none of the developer's MICRO_* settings.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Snippet } from './snippets.js'

/** The loopback servers a block may name with `needs=`, and the variables the pages read them from. */
export const SERVERS: Record<string, { test: string; page: string }> = {
  nats: { test: 'MICRO_TEST_NATS', page: 'NATS_URL' },
  redis: { test: 'MICRO_TEST_REDIS', page: 'REDIS_URL' },
  postgres: { test: 'MICRO_TEST_POSTGRES', page: 'DATABASE_URL' },
}

/** Why a block cannot run here (a server it needs is not configured), or undefined. */
export function missingServer(s: Snippet): string | undefined {
  for (const need of s.needs) {
    const server = SERVERS[need]
    if (server && !process.env[server.test]) return `${server.test} is not set`
  }
  return undefined
}

/** The environment of one block: `home` for HOME, the CLI config and data; `extra` on top. */
export function blockEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('MICRO_') || key.startsWith('MICRO_TEST_')) env[key] = value
  }
  for (const server of Object.values(SERVERS)) {
    const url = process.env[server.test]
    if (url) env[server.page] = url
  }
  mkdirSync(join(home, 'config'), { recursive: true })
  return {
    ...env,
    HOME: home,
    MICRO_CONFIG_DIR: join(home, 'config'),
    MICRO_LOG_LEVEL: 'warn',
    ...extra,
  }
}

/** A directory with a `micro` executable that runs this repository's CLI (dist/cli/main.js). */
export function microBin(dir: string, cli: string): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'micro')
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`)
  chmodSync(path, 0o755)
  return dir
}
