/** Per-process readings from /proc (Linux): resident memory and CPU time. */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux Node supports. */
const CLOCK_TICKS = 100

/** Resident set size (VmRSS) of a process, in MB. */
export async function readRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  if (!match) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1]) / 1024
}

/**
 * CPU time (user + system) a process has used so far, ms (10 ms resolution). Read
 * synchronously so the reading is taken the moment a window mark arrives.
 */
export function readCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return ((utime + stime) * 1000) / CLOCK_TICKS
}

/** Busy (non-idle) CPU time of the whole machine so far, summed over cores, ms. */
export function machineBusyMs(): number {
  const cpu =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
  return ((cpu.reduce((a, b) => a + b, 0) - idle) * 1000) / CLOCK_TICKS
}

/**
 * Share of the machine's CPU time that was busy over `ms` (0..1), from /proc/stat: a
 * check that nothing else is running while the bench measures.
 */
export async function machineBusy(ms: number): Promise<number> {
  const sample = () => {
    const cpu =
      readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? []
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
    return { idle, total: cpu.reduce((a, b) => a + b, 0) }
  }
  const before = sample()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const after = sample()
  const total = after.total - before.total
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0
}
