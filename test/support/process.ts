import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/** A child process whose output is collected, with a way to wait for a line. */
export interface Child {
  process: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the first match of `pattern` in stdout, or rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>
}

const alive = new Set<ChildProcess>()
let hooked = false

/**
 * Kill what a test file started when its process ends: normally, and also when the test
 * runner stops a file that ran past its time with a signal (whose default action skips
 * `exit` handlers and would leave servers running for the rest of the suite).
 */
export function killWithTestProcess(child: ChildProcess): void {
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  if (hooked) return
  hooked = true
  const killAll = () => {
    for (const c of alive) c.kill('SIGKILL')
  }
  process.once('exit', killAll)
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(code)
    })
  }
}

/** Spawn `node <args>` with extra environment (in `cwd`); killed at the end of the test run if still alive. */
export function spawnNode(args: string[], env: Record<string, string> = {}, cwd?: string): Child {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const listeners = new Set<() => void>()
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    for (const l of listeners) l()
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  killWithTestProcess(child)
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern)
          if (match) {
            listeners.delete(check)
            clearTimeout(timer)
            resolve(match)
          }
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`timed out waiting for ${pattern}; stdout: ${out}\nstderr: ${err}`))
        }, ms)
        listeners.add(check)
        exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check)
            clearTimeout(timer)
            reject(new Error(`process exited before ${pattern}; stdout: ${out}\nstderr: ${err}`))
          }
        })
        check()
      })
    },
  }
}

/** Run `node <args>` to completion. */
export async function runNode(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnNode(args, env)
  const code = await child.exited
  return { code: typeof code === 'number' ? code : -1, stdout: child.stdout(), stderr: child.stderr() }
}
