import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Child, spawnNode } from '../support/process.js'
import { blockEnv, microBin, missingServer } from './environment.js'
import { allSnippets, isShell, type Snippet, where } from './snippets.js'

// The shell blocks of the guides run, in page order, with bash against a real `micro server`
// started here on free ports (its HTTP and platform addresses replace 127.0.0.1:8080 and
// :8081 in the blocks), with the helloworld greeter registered on it, and `micro` on PATH.
// Each page has its own CLI config whose current environment is that server. Blocks marked
// `no-run` are not run (their command lines are checked in snippets.test.ts); blocks marked
// `needs=server` need the real server's runtime and are skipped on the stand-in used while
// `micro server` is not in this build (test/docs/fixtures/standin-server.ts).

const root = fileURLToPath(new URL('../..', import.meta.url))
const cli = join(root, 'dist/cli/main.js')
const home = mkdtempSync(join(tmpdir(), 'micro-docs-sh-'))
const bin = microBin(join(home, 'bin'), cli)
// The pages' folders sit in a project that has installed micro-ts (as getting started
// says), so a service `micro new` scaffolds there can import it.
mkdirSync(join(home, 'node_modules'))
symlinkSync(root, join(home, 'node_modules', 'micro-ts'), 'dir')
const blocks = allSnippets(root).filter((s) => isShell(s) && !s.flags.has('no-run'))
const hasServer = spawnSync(process.execPath, [cli, 'server', '--help'], { env: blockEnv(home) }).status === 0

let server: Child
let greeter: Child
let http = ''
let platform = ''

before(async () => {
  const engines = {
    MICRO_REGISTRY: 'memory',
    MICRO_BROKER: 'memory',
    MICRO_EVENTS: 'memory',
    MICRO_STORE: 'memory',
  }
  server = hasServer
    ? spawnNode(
        [cli, 'server', '--address', '127.0.0.1:0', '--platform-address', '127.0.0.1:0'],
        blockEnv(join(home, 'server'), engines) as Record<string, string>,
      )
    : spawnNode(
        ['--import', 'tsx', join(root, 'test/docs/fixtures/standin-server.ts')],
        blockEnv(join(home, 'server'), engines) as Record<string, string>,
      )
  http = (await server.waitFor(/dashboard\s+http:\/\/(\S+?)\/?\s/, 60_000))[1] as string
  platform = (await server.waitFor(/platform port\s+(\S+)/, 60_000))[1] as string
  greeter = spawnNode(
    [join(root, 'build/examples/helloworld/main.js')],
    blockEnv(join(home, 'greeter'), { MICRO_PLATFORM: platform }) as Record<string, string>,
  )
  await greeter.waitFor(/is serving/, 60_000)
})

after(async () => {
  for (const child of [greeter, server]) {
    if (!child) continue
    child.process.kill('SIGTERM')
    await child.exited
  }
  rmSync(home, { recursive: true, force: true })
})

/** The block as run here: the documented default addresses become this server's. */
function localize(code: string): string {
  return code
    .replace(/\b(127\.0\.0\.1|localhost):8080\b/g, http)
    .replace(/\b(127\.0\.0\.1|localhost):8081\b/g, platform)
}

const pageHomes = new Map<string, Promise<string>>()
/** The page's home: a CLI config whose current environment `local` is this server. */
function pageHome(page: string): Promise<string> {
  let made = pageHomes.get(page)
  if (!made) {
    made = (async () => {
      const dir = join(home, 'pages', page.replace(/[^A-Za-z0-9]+/g, '-'))
      mkdirSync(dir, { recursive: true })
      for (const args of [
        ['env', 'add', 'local', platform],
        ['env', 'set', 'local'],
      ]) {
        const r = await bash(`micro ${args.join(' ')}`, dir)
        assert.equal(r.code, 0, r.out)
      }
      return dir
    })()
    pageHomes.set(page, made)
  }
  return made
}

function bash(code: string, dir: string): Promise<{ code: number; out: string }> {
  const env = blockEnv(dir, { PATH: `${bin}:${process.env.PATH}` })
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-eo', 'pipefail', '-c', code],
      { cwd: dir, env, timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    )
  })
}

const skipReason = (s: Snippet) =>
  s.needs.includes('server') && !hasServer ? 'needs micro server (not in this build)' : missingServer(s)

describe('shell blocks against micro server', () => {
  test('there are some', () => assert.ok(blocks.length >= 5, `${blocks.length}`))

  for (const s of blocks) {
    const skip = skipReason(s)
    test(where(s), {
      skip: skip && !(process.env.CI && !s.needs.includes('server')) ? skip : false,
    }, async () => {
      const dir = await pageHome(s.file)
      const result = await bash(localize(s.code), dir)
      assert.equal(result.code, 0, `${where(s)} exited ${result.code}:\n${result.out}`)
    })
  }
})
