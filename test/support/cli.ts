import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { killWithTestProcess } from './process.js'

/** What one `micro` run printed and how it exited. */
export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * Run the built CLI (`dist/cli/main.js`) as a child process with extra environment (the
 * caller's MICRO_PLATFORM, MICRO_NAMESPACE and MICRO_REGISTRY only when `env` names them),
 * writing `input` to its standard input (closed right after; none: closed at once).
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliRun> {
  // The tests' own settings only: nothing from the shell that runs them (an undefined value unsets).
  const merged: Record<string, string | undefined> = { ...process.env, ...env }
  for (const name of Object.keys(merged)) {
    const inherited = name === 'MICRO_PLATFORM' || name === 'MICRO_NAMESPACE' || name === 'MICRO_REGISTRY'
    if (merged[name] === undefined || (inherited && !(name in env))) delete merged[name]
  }
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], {
    env: merged as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdin.on('error', () => {})
  child.stdin.end(input ?? '')
  killWithTestProcess(child)
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null]
  return { code: code ?? (signal ? -1 : -1), stdout, stderr }
}

/**
 * Run `fn` over `items`, at most `limit` at a time (CLI processes are slow to start on a
 * loaded machine; independent runs overlap). Rejects with the first failure, once all ended.
 */
export async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const failures: unknown[] = []
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await fn(item).catch((error: unknown) => failures.push(error))
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  if (failures.length > 0) throw failures[0]
}
