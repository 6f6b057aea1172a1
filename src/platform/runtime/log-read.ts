import { read } from 'node:fs'
import type { LogRecord } from './types.js'

/** An open log file and how far to read it (its size when the read began). */
export interface Segment {
  fd: number
  size: number
}

const CHUNK = 64 * 1024
const NEWLINE = 0x0a

/**
 * The records of `segments` (oldest file first) written at or after `since`; with
 * `lines`, only the last that many, found by reading the files backwards so a short tail
 * of a large log costs a short read. Lines that do not parse (a write cut short) are
 * skipped.
 */
export async function* readSegments(
  segments: Segment[],
  options: { since?: number; lines?: number },
): AsyncGenerator<LogRecord> {
  const since = options.since ?? Number.NEGATIVE_INFINITY
  if (options.lines === undefined) {
    for (const segment of segments) {
      for await (const text of forward(segment)) {
        const record = parse(text)
        if (record && Date.parse(record.time) >= since) yield record
      }
    }
    return
  }
  const wanted = Math.max(0, Math.floor(options.lines))
  const tail: LogRecord[] = []
  collect: for (const segment of [...segments].reverse()) {
    if (tail.length >= wanted) break
    for await (const text of backward(segment)) {
      const record = parse(text)
      if (!record) continue
      if (Date.parse(record.time) < since) break collect
      tail.push(record)
      if (tail.length >= wanted) break collect
    }
  }
  yield* tail.reverse()
}

function parse(text: string): LogRecord | undefined {
  try {
    const value = JSON.parse(text) as LogRecord
    return value && typeof value.time === 'string' && typeof value.line === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(length)
    read(fd, buffer, 0, length, position, (error, bytes) =>
      error ? reject(error) : resolve(buffer.subarray(0, bytes)),
    )
  })
}

/** Lines from the start. Splitting on the newline byte never cuts a UTF-8 character. */
async function* forward({ fd, size }: Segment): AsyncGenerator<string> {
  let carry = Buffer.alloc(0)
  for (let position = 0; position < size; ) {
    const chunk = await readAt(fd, Math.min(CHUNK, size - position), position)
    if (chunk.length === 0) break
    position += chunk.length
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
    let start = 0
    for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, start)) {
      if (i > start) yield data.toString('utf8', start, i)
      start = i + 1
    }
    carry = Buffer.from(data.subarray(start))
  }
  if (carry.length > 0) yield carry.toString('utf8')
}

/** Lines from the end, last first. */
async function* backward({ fd, size }: Segment): AsyncGenerator<string> {
  let carry = Buffer.alloc(0)
  for (let position = size; position > 0; ) {
    const length = Math.min(CHUNK, position)
    position -= length
    const chunk = await readAt(fd, length, position)
    const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk
    let end = data.length
    for (let i = data.lastIndexOf(NEWLINE, end - 1); i !== -1; i = data.lastIndexOf(NEWLINE, end - 1)) {
      if (i + 1 < end) yield data.toString('utf8', i + 1, end)
      end = i
      if (end === 0) break
    }
    carry = Buffer.from(data.subarray(0, end))
  }
  if (carry.length > 0) yield carry.toString('utf8')
}
