import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { readSegments } from './log-read.js'
import type { LogRecord, LogsOptions } from './types.js'

/** Size and count limits of a service's log files. */
export interface LogLimits {
  /** A file is rotated before it would grow past this many bytes. Default 10 MiB. */
  maxBytes?: number
  /** Files kept, the one being written included. Default 5. */
  maxFiles?: number
}

/** Live records a follower may fall behind by before the oldest are dropped. */
const FOLLOW_BUFFER = 10_000

/** The file being written; rotated ones are `service.log.1` (newest) to `service.log.<maxFiles-1>`. */
export const LOG_FILE = 'service.log'

/**
 * A service's log: JSON lines (`{time, instance, pid, stream, line}`) in `dir/service.log`,
 * rotated by size, at most `maxFiles` files. Writes are synchronous appends, so a reader
 * that snapshots the files and subscribes in the same turn misses and repeats nothing.
 */
export class ServiceLog {
  readonly dir: string
  readonly #maxBytes: number
  readonly #maxFiles: number
  readonly #followers = new Set<Follower>()
  #fd: number | undefined
  #size = 0

  constructor(dir: string, limits: LogLimits = {}) {
    this.dir = dir
    this.#maxBytes = limits.maxBytes ?? 10 * 1024 * 1024
    this.#maxFiles = limits.maxFiles ?? 5
    if (!(this.#maxBytes >= 1024) || !Number.isInteger(this.#maxFiles) || this.#maxFiles < 1) {
      throw new TypeError('log limits need maxBytes >= 1024 and maxFiles >= 1')
    }
  }

  /** Append one record (and hand it to followers). A write that fails is dropped, not thrown. */
  append(record: LogRecord): void {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`)
    try {
      if (this.#fd === undefined) this.#open()
      if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate()
      this.#size += writeSync(this.#fd as number, bytes)
    } catch {
      // A full or vanished disk must not take the runtime down; followers still see the line.
      this.#closeFd()
    }
    for (const follower of this.#followers) follower.push(record)
  }

  /**
   * Past records (those at or after `since`, the last `lines` of them), then, with
   * `follow`, each new one as it is written, until `signal` aborts or the log is closed.
   */
  async *read(options: LogsOptions = {}): AsyncGenerator<LogRecord> {
    // Open every file now: a rotation during the read renames or deletes paths, not these.
    const segments = this.#snapshot()
    const follower = options.follow ? new Follower() : undefined
    if (follower) this.#followers.add(follower)
    const onAbort = () => follower?.end()
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      yield* readSegments(segments, options)
      if (follower && !options.signal?.aborted) yield* follower.records()
    } finally {
      for (const s of segments) closeQuietly(s.fd)
      if (follower) this.#followers.delete(follower)
      options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Stop writing; followers end. */
  close(): void {
    this.#closeFd()
    for (const follower of this.#followers) follower.end()
    this.#followers.clear()
  }

  /** Close and delete the files. */
  remove(): void {
    this.close()
    rmSync(this.dir, { recursive: true, force: true })
  }

  #path(n: number): string {
    return join(this.dir, n === 0 ? LOG_FILE : `${LOG_FILE}.${n}`)
  }

  #open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    this.#fd = openSync(this.#path(0), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600)
    this.#size = fstatSync(this.#fd).size
  }

  #rotate(): void {
    this.#closeFd()
    if (this.#maxFiles === 1) {
      unlinkQuietly(this.#path(0))
    } else {
      unlinkQuietly(this.#path(this.#maxFiles - 1))
      for (let n = this.#maxFiles - 2; n >= 0; n--) {
        try {
          renameSync(this.#path(n), this.#path(n + 1))
        } catch {
          // A missing older file leaves a gap, nothing more.
        }
      }
    }
    this.#open()
  }

  #closeFd(): void {
    if (this.#fd !== undefined) closeQuietly(this.#fd)
    this.#fd = undefined
  }

  /** The files oldest first, each opened, with the size it has now. */
  #snapshot(): { fd: number; size: number }[] {
    const segments: { fd: number; size: number }[] = []
    for (let n = this.#maxFiles - 1; n >= 0; n--) {
      try {
        const fd = openSync(this.#path(n), 'r')
        segments.push({ fd, size: fstatSync(fd).size })
      } catch {
        // Not there (yet).
      }
    }
    return segments
  }
}

/** Records written while a follower reads: buffered, the oldest dropped past FOLLOW_BUFFER. */
class Follower {
  readonly #buffer: LogRecord[] = []
  #dropped = 0
  #wake: (() => void) | undefined
  #ended = false

  push(record: LogRecord): void {
    if (this.#ended) return
    if (this.#buffer.length >= FOLLOW_BUFFER) {
      this.#buffer.shift()
      this.#dropped++
    }
    this.#buffer.push(record)
    this.#wake?.()
  }

  end(): void {
    this.#ended = true
    this.#wake?.()
  }

  async *records(): AsyncGenerator<LogRecord> {
    while (true) {
      if (this.#dropped > 0) {
        const line = `${this.#dropped} log lines dropped: the reader fell behind`
        this.#dropped = 0
        yield { time: new Date().toISOString(), instance: 0, pid: 0, stream: 'runtime', line }
      }
      const record = this.#buffer.shift()
      if (record) {
        yield record
        continue
      }
      if (this.#ended) return
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
      this.#wake = undefined
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // Already closed.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Not there.
  }
}
