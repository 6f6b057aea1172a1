import { spawn } from 'node:child_process'
import { once } from 'node:events'

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
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null]
  process.off('exit', kill)
  return { code: code ?? (signal ? -1 : -1), stdout, stderr }
}
