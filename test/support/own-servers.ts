import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A server this test started (on loopback, its own ports), and how to stop it. */
export interface OwnServer {
  /** The client URL, e.g. `nats://127.0.0.1:41234`. */
  address: string
  stop(): Promise<void>
}

/** A NATS server with JetStream and its HTTP monitoring (`/connz`). */
export interface OwnNats extends OwnServer {
  /** `http://127.0.0.1:<port>` of the monitoring endpoints. */
  monitor: string
}

/**
 * Why the binary cannot be used, for node:test's `skip` (false when it can). In CI a
 * missing binary is a failure, as a missing shared server is.
 */
export function missingBinary(binary: string): string | false {
  const found = spawnSync(binary, ['--version'], { stdio: 'ignore' })
  if (found.status === 0) return false
  if (process.env.CI === 'true') throw new Error(`${binary} is not installed: in CI it is required`)
  return `${binary} is not installed`
}

/** Start nats-server on loopback with free client and monitoring ports, JetStream in a temporary directory. */
export async function startNats(): Promise<OwnNats> {
  const dir = mkdtempSync(join(tmpdir(), 'own-nats-'))
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-m', '-1', '-js', '-sd', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stop = stopper(child, () => rmSync(dir, { recursive: true, force: true }))
  try {
    const output = await waitForOutput(child, /Server is ready/)
    const client = output.match(/Listening for client connections on (127\.0\.0\.1:\d+)/)?.[1]
    const monitor = output.match(/Starting http monitor on (127\.0\.0\.1:\d+)/)?.[1]
    if (!client || !monitor) throw new Error(`nats-server did not say where it listens:\n${output}`)
    return { address: `nats://${client}`, monitor: `http://${monitor}`, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Start redis-server on loopback on a free port, with no persistence. */
export async function startRedis(): Promise<OwnServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const stop = stopper(child, () => {})
    try {
      await waitForOutput(child, /Ready to accept connections/)
      return { address: `redis://127.0.0.1:${port}`, stop }
    } catch (error) {
      await stop()
      // The port was taken between finding it and binding it: try another.
      if (attempt >= 5) throw error
    }
  }
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Everything the child has written once `pattern` shows in it; rejects if it exits first or after 20 s. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}:\n${output}`)), 20_000)
    const onData = (data: Buffer) => {
      output += data.toString()
      if (pattern.test(output)) finish()
    }
    const onExit = () => finish(new Error(`exited before ${pattern}:\n${output}`))
    const finish = (error?: Error) => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      if (error) reject(error)
      else resolve(output)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
  })
}

function stopper(child: ChildProcess, cleanUp: () => void): () => Promise<void> {
  const exited = once(child, 'exit')
  // Output nobody reads must not fill the pipe and stall the server.
  child.stdout?.resume()
  child.stderr?.resume()
  process.once('exit', () => child.kill('SIGKILL'))
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    cleanUp()
  }
}
