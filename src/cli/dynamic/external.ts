import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { delimiter, isAbsolute, join } from 'node:path'

/** Names that may become `micro-<name>`: no path separators, nothing a shell would read. */
const EXTERNAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * The executable `micro-<name>` on PATH (absolute entries only, first match wins), as Micro
 * v3 looked for plugins before services; undefined when there is none.
 */
export async function findExternal(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (!EXTERNAL_NAME.test(name)) return undefined
  const suffixes = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : ['']
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // A relative entry (or the empty one, meaning the working directory) would run whatever
    // the current folder holds: skipped.
    if (!dir || !isAbsolute(dir)) continue
    for (const suffix of suffixes) {
      const file = join(dir, `micro-${name}${suffix}`)
      try {
        await access(file, constants.X_OK)
        if ((await stat(file)).isFile()) return file
      } catch {
        // not here
      }
    }
  }
  return undefined
}

/**
 * Run `file` with `args`, sharing this process's standard streams; resolves with its exit
 * code (128 + the signal number when a signal ended it). Ctrl-C reaches it through the
 * terminal's process group and SIGTERM is passed on; this process waits for it to exit.
 */
export function runExternal(file: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit' })
    const ignore = () => {}
    const forward = () => child.kill('SIGTERM')
    process.on('SIGINT', ignore)
    process.on('SIGTERM', forward)
    const done = () => {
      process.off('SIGINT', ignore)
      process.off('SIGTERM', forward)
    }
    child.once('error', (error) => {
      done()
      reject(error)
    })
    child.once('exit', (code, signal) => {
      done()
      const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
      resolve(code ?? 128 + (signal ? (signals[signal] ?? 1) : 1))
    })
  })
}
