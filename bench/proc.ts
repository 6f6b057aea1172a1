/** Per-process readings from /proc (Linux): resident memory and CPU time. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
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

/**
 * The pid of the process listening on a TCP `port` of this machine (the NATS or Redis
 * server the bench talks to), found through the socket's inode in /proc/net/tcp{,6} and
 * /proc/<pid>/fd; undefined when it is not visible (another container, no permission).
 * The engine's CPU time is then reported on its own instead of as noise.
 */
export function listenerPid(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      // local_address is ip:port in hex; state 0A is LISTEN; the inode is the tenth field.
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A' && fields[9]) inodes.add(fields[9])
    }
  }
  if (inodes.size === 0) return undefined
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${entry}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`)
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return Number(entry)
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return undefined
}

/**
 * A CPU counter (a process's, the machine's) read at the start and end of each measured
 * window; `used` is the difference, per window key (a load level, a step).
 */
export class WindowCpu {
  readonly #read: () => number
  readonly #at = new Map<string | number, number>()
  readonly #used = new Map<string | number, number>()
  constructor(read: () => number) {
    this.#read = read
  }
  mark(level: string | number, start: boolean): void {
    const now = this.#read()
    if (start) this.#at.set(level, now)
    else this.#used.set(level, now - (this.#at.get(level) ?? now))
  }
  used(level: string | number): number | undefined {
    return this.#used.get(level)
  }
}
