import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'

/**
 * When a process started, as an opaque string that only needs to compare equal for the
 * same process: field 22 of `/proc/<pid>/stat` (clock ticks since boot) on Linux, else
 * `ps -o lstart=`. A pid the kernel gave to another process since has another start time,
 * so pid + start time names one process. Undefined when it is not running (a zombie, dead
 * but not yet reaped, counts as not running).
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined
    return fields[19] ? `proc:${fields[19]}` : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return undefined
  }
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], (error, stdout) => {
      const [state, ...start] = (stdout ?? '').trim().split(/\s+/)
      resolve(error || !state || state.startsWith('Z') ? undefined : `ps:${start.join(' ')}`)
    })
  })
}

/**
 * Send a signal to a process group: the runtime starts each instance as the leader of its
 * own group, so anything the instance started goes too. Never the pid alone: once the
 * leader is gone, its pid may belong to someone else (a group id is not reused while the
 * group has members).
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid <= 0) return
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is gone already.
  }
}
