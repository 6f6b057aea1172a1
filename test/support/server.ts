// A real `micro server` in a child process for end-to-end tests: both ports on 127.0.0.1:0
// (read from what it prints), its home (~/.micro: store, events, runtime, auth) and the
// CLI's config in a temporary directory, and helpers to run the built CLI against it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type CliRun, runCli } from './cli.js'
import { type Child, spawnNode } from './process.js'

const CLI = resolve('dist/cli/main.js')

/** A server child and where it keeps things. */
export interface ServerChild {
  child: Child
  /** HTTP `host:port`. */
  http: string
  /** Platform port `host:port`. */
  platform: string
  /** The `micro login --token <t>` token, when the server printed one. */
  bootstrapToken: string | undefined
  /** SIGTERM, then wait for the exit (SIGKILL after 30 s). */
  stop(): Promise<void>
}

/** A temporary home for one server (and the processes that share its machine-local engines). */
export interface ServerHome {
  dir: string
  /** The environment every process of the test gets: HOME, the CLI's config dir, a namespace of its own. */
  env: Record<string, string>
  remove(): Promise<void>
}

/** A fresh home: `HOME` (so ~/.micro is the test's own), MICRO_CONFIG_DIR, and a unique namespace. */
export function serverHome(namespace = `t${process.pid}${Math.floor(Math.random() * 1e6)}`): ServerHome {
  const dir = mkdtempSync(join(tmpdir(), 'micro-server-'))
  mkdirSync(join(dir, 'cli'), { recursive: true })
  return {
    dir,
    env: {
      HOME: dir,
      MICRO_CONFIG_DIR: join(dir, 'cli'),
      MICRO_NAMESPACE: namespace,
      MICRO_LOG_LEVEL: 'warn',
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Start `micro server` on port 0 for both addresses with `home`'s environment (and `env`); resolves once it prints its URLs. */
export async function startServerChild(
  home: ServerHome,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ServerChild> {
  const child = spawnNode(
    [CLI, 'server', '--address', '127.0.0.1:0', '--platform-address', '127.0.0.1:0', ...args],
    { ...home.env, ...env },
  )
  const [, platform] = await child.waitFor(/platform port\s+(\S+)/, 60_000)
  const [, http] = (await child.waitFor(/dashboard\s+http:\/\/(\S+?)\//, 60_000)) as RegExpMatchArray
  const token = child.stdout().match(/micro login --token (\S+)/)?.[1]
  return {
    child,
    http: http as string,
    platform: platform as string,
    bootstrapToken: token,
    async stop() {
      if (child.process.exitCode !== null || child.process.signalCode !== null) return
      child.process.kill('SIGTERM')
      const timer = setTimeout(() => child.process.kill('SIGKILL'), 30_000)
      await child.exited
      clearTimeout(timer)
    },
  }
}

/** Run the built CLI with `home`'s environment and MICRO_PLATFORM set to the server (unless `env` unsets it). */
export function cli(
  home: ServerHome,
  server: { platform: string } | undefined,
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliRun> {
  return runCli(
    args,
    {
      ...home.env,
      ...(server ? { MICRO_PLATFORM: server.platform } : {}),
      ...env,
    },
    input,
  )
}

/** Start `node greeter.mjs` (test/fixtures/server) with `home`'s environment; resolves once it serves. */
export async function startGreeter(home: ServerHome, env: Record<string, string> = {}): Promise<Child> {
  const greeter = spawnNode([resolve('test/fixtures/server/greeter.mjs')], { ...home.env, ...env })
  await greeter.waitFor(/greeter serving on/, 30_000)
  return greeter
}

/** A service.toml folder whose `Counter.Version` answers its version and pid (plain JS on dist/). */
export function writeServiceFolder(dir: string, name: string, version: string): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'service.toml'), `name = "${name}"\ntypes = ["rpc"]\nversion = "${version}"\n`)
  const definition = resolve('dist/definition/index.js')
  const server = resolve('dist/server/index.js')
  writeFileSync(
    join(dir, 'service.js'),
    `import { defineService } from '${definition}'
import { endpoint } from '${server}'

class Counter {
  Version = endpoint({ idempotent: true }, async () => {
    console.log('version asked')
    return { version: '${version}', pid: process.pid }
  })
}

export default defineService({ rpc: () => new Counter() })
`,
  )
}

/** POST JSON to the server's HTTP port; the status and the parsed body. */
export async function post(
  http: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://${http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {}
  return { status: res.status, body: parsed }
}
