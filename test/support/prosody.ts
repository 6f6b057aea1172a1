/**
 * A Prosody XMPP server of the test's own: a temporary config and data folder, a free port
 * on 127.0.0.1, no server-to-server, no HTTP, no TLS (loopback only), accounts registered
 * with prosodyctl. A system Prosody (the Debian package's service) is never touched; the
 * test process starts this one and stops it by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Prosody {
  /** `xmpp://127.0.0.1:<port>` */
  service: string
  domain: 'localhost'
  register(user: string, password: string): Promise<void>
  /** Prosody's own log, for a failing test's message. */
  log(): Promise<string>
  stop(): Promise<void>
}

/** Why Prosody cannot run here, or undefined when it can. */
export function prosodyMissing(): string | undefined {
  const probe = spawnSync('prosodyctl', ['--help'], { stdio: 'ignore' })
  if (probe.error) return 'prosody is not installed (apt-get install prosody; .ci/run installs it)'
  return undefined
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function config(dir: string, port: number): string {
  return `-- written by test/support/prosody.ts
run_as_root = true
daemonize = false
data_path = "${dir}/data"
certificates = "${dir}/certs"
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster", "saslauth", "disco", "ping", "offline" }
modules_disabled = { "s2s", "tls" }
authentication = "internal_hashed"
c2s_require_encryption = false
storage = "internal"
log = { { levels = { min = "info" }, to = "file", filename = "${dir}/prosody.log" } }
VirtualHost "localhost"
`
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, output }))
  })
}

/** Resolves once something accepts TCP connections on the port; rejects when `exited` says the server died. */
async function waitForPort(port: number, exited: () => string | undefined): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const why = exited()
    if (why !== undefined) throw new Error(why)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`prosody did not listen on ${port}`)
}

/** Start Prosody on a free loopback port (a port taken in between: another one, up to 3 times). */
export async function startProsody(): Promise<Prosody> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-prosody-'))
  await mkdir(join(dir, 'data'), { recursive: true })
  await mkdir(join(dir, 'certs'), { recursive: true })
  const file = join(dir, 'prosody.cfg.lua')
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    await writeFile(file, config(dir, port))
    const child: ChildProcess = spawn('prosody', ['--config', file, '-F'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const console = createWriteStream(join(dir, 'console.log'))
    child.stdout?.pipe(console)
    child.stderr?.pipe(console)
    let exit: string | undefined
    child.once('exit', (code, signal) => {
      exit = `prosody exited (${signal ?? code}) before listening`
    })
    try {
      await waitForPort(port, () => exit)
    } catch (error) {
      child.kill('SIGKILL')
      if (attempt < 3) continue
      await rm(dir, { recursive: true, force: true })
      throw error
    }
    return {
      service: `xmpp://127.0.0.1:${port}`,
      domain: 'localhost',
      async register(user, password) {
        const result = await run('prosodyctl', ['--config', file, 'register', user, 'localhost', password])
        if (result.code !== 0) throw new Error(`prosodyctl register ${user} failed: ${result.output}`)
      },
      log: () => readFile(join(dir, 'prosody.log'), 'utf8').catch(() => ''),
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          await exited
        }
        await rm(dir, { recursive: true, force: true })
      },
    }
  }
}
