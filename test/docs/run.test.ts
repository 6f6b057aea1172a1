import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { blockEnv, missingServer } from './environment.js'
import { allSnippets, isRunnable, where } from './snippets.js'
import { moduleName } from './typecheck.js'

// The blocks marked `ts run` are complete programs: each runs with node (through tsx) in a
// home of its own, namespace of its own, against the loopback servers it names, and must
// exit 0 within a minute. A block that throws, hangs or leaves a handle open fails.

const root = fileURLToPath(new URL('../..', import.meta.url))
const dir = join(root, 'build/docs-run')
const homes = mkdtempSync(join(tmpdir(), 'micro-docs-run-'))
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
after(() => rmSync(homes, { recursive: true, force: true }))

const runnable = allSnippets(root).filter(isRunnable)
const tag = randomUUID().slice(0, 8)

describe('runnable documentation blocks', { concurrency: 3 }, () => {
  test('there are some', () => assert.ok(runnable.length >= 5, `${runnable.length}`))

  for (const [i, s] of runnable.entries()) {
    const missing = missingServer(s)
    test(where(s), { skip: missing && !process.env.CI ? missing : false }, async () => {
      assert.equal(missing, undefined, `${where(s)} needs ${s.needs}: ${missing}`)
      const file = join(dir, moduleName(s))
      writeFileSync(file, `${s.code}\nexport {}\n`)
      const home = join(homes, String(i))
      mkdirSync(home, { recursive: true })
      const env = blockEnv(home, { MICRO_NAMESPACE: `docs-${tag}-${i}`, MICRO_REGISTRY: 'memory' })
      const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', import.meta.resolve('tsx'), file],
          { cwd: home, env, timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? ((error as { code?: number }).code ?? 1) : 0,
              out: `${stdout}${stderr}`,
            }),
        )
      })
      assert.equal(result.code, 0, `${where(s)} exited ${result.code}:\n${result.out}`)
    })
  }
})
