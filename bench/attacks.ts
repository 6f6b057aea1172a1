/**
 * Phase 9: the server's memory under two attacks on one connection, limits on and off.
 * The orchestrator is the attacker; the server is the `abuse-server` fixture, whose RSS is
 * read from /proc while the attack runs.
 *
 * - many streams: 40 streams whose handler never reads, each sent 255 messages of 64 KiB
 *   (650 MiB), stopping once the server stops reading (no `drain` for 2 s).
 * - pending calls: 100 000 unary calls to a handler that never answers (about 6 MiB).
 */
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { spawnFixture } from './children.js'
import { readRssMb } from './proc.js'

export type Attack = 'many streams' | 'pending calls'

export interface AttackResult {
  attack: Attack
  limits: 'on' | 'off'
  /** What the attacker got the server to take, MiB. */
  sentMiB: number
  /** Peak server RSS during the attack minus its RSS before, MiB. */
  rssGrowthMiB: number
  /** Calls refused with an error frame (pending calls: 503 past the per-connection cap). */
  refused: number
}

const fixture = fileURLToPath(new URL('./fixtures/abuse-server.js', import.meta.url))
const MiB = 1024 * 1024
const STALL_MS = 2000

/** Run one attack against a fresh server with limits on or off. */
export async function runAttack(attack: Attack, limits: 'on' | 'off'): Promise<AttackResult> {
  const env: Record<string, string> = { MICRO_REGISTRY: 'memory' }
  if (limits === 'off') env.MICRO_SERVER_LIMITS = 'off'
  const server = spawnFixture(fixture, { env, core: 0 })
  try {
    const ready = await server.waitFor('ready', 15_000)
    const address = ready.data.address as string
    const before = await readRssMb(server.pid)
    let peak = before
    const sample = setInterval(() => {
      readRssMb(server.pid).then(
        (mb) => {
          peak = Math.max(peak, mb)
        },
        () => {},
      )
    }, 50)
    try {
      const socket = await dial(address)
      let refused = 0
      let received = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk])
        refused += countErrors(received)
        received = received.subarray(lastWhole(received))
      })
      const sent = attack === 'many streams' ? await manyStreams(socket) : await pendingCalls(socket)
      // Let the server settle on what it took, then read its peak.
      await new Promise((r) => setTimeout(r, 1000))
      peak = Math.max(peak, await readRssMb(server.pid))
      socket.destroy()
      return { attack, limits, sentMiB: sent / MiB, rssGrowthMiB: peak - before, refused }
    } finally {
      clearInterval(sample)
    }
  } finally {
    await server.stop()
  }
}

async function manyStreams(socket: Socket): Promise<number> {
  const headers = { 'micro-endpoint': 'Abuse.Hold', 'content-type': 'application/json' }
  for (let id = 1; id <= 40; id++) socket.write(frame(1, 4, id, headers, Buffer.alloc(0)))
  const body = Buffer.alloc(64 * 1024, 0x31)
  const frames = Array.from({ length: 40 }, (_, i) => frame(2, 0, i + 1, undefined, body))
  let sent = 0
  for (let round = 0; round < 255; round++) {
    for (const f of frames) {
      if (!(await write(socket, f))) return sent
      sent += body.length
    }
  }
  return sent
}

async function pendingCalls(socket: Socket): Promise<number> {
  const headers = { 'micro-endpoint': 'Abuse.Hang', 'content-type': 'application/json' }
  const body = Buffer.from('{}')
  let sent = 0
  for (let batch = 0; batch < 100; batch++) {
    const frames = Array.from({ length: 1000 }, (_, i) => frame(1, 3, batch * 1000 + i + 1, headers, body))
    const bytes = Buffer.concat(frames)
    if (!(await write(socket, bytes))) return sent
    sent += bytes.length
  }
  return sent
}

function dial(address: string): Promise<Socket> {
  const [host, port] = address.split(':') as [string, string]
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Write; false when the server has not taken it within STALL_MS (it stopped reading). */
function write(socket: Socket, bytes: Buffer): Promise<boolean> {
  if (socket.write(bytes)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), STALL_MS)
    socket.once('drain', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/** A micro-protocol frame: the 16-byte header, literal header entries, the body. */
function frame(
  type: number,
  flags: number,
  id: number,
  headers: Record<string, string> | undefined,
  body: Buffer,
): Buffer {
  const entries = Object.entries(headers ?? {}).map(([key, value]) => {
    const k = Buffer.from(key)
    const v = Buffer.from(value)
    const length = Buffer.alloc(2)
    length.writeUInt16BE(v.length)
    return Buffer.concat([Buffer.from([k.length]), k, length, v])
  })
  const block = Buffer.concat(entries)
  const head = Buffer.alloc(16)
  head[0] = 1
  head[1] = type
  head[2] = flags
  head.writeUInt32BE(id, 4)
  head.writeUInt32BE(block.length, 8)
  head.writeUInt32BE(body.length, 12)
  return Buffer.concat([head, block, body])
}

/** Error frames (type 4) among the whole frames at the start of `bytes`. */
function countErrors(bytes: Buffer): number {
  let count = 0
  let at = 0
  while (at + 16 <= bytes.length) {
    const size = 16 + bytes.readUInt32BE(at + 8) + bytes.readUInt32BE(at + 12)
    if (at + size > bytes.length) break
    if (bytes[at + 1] === 4) count++
    at += size
  }
  return count
}

/** Where the whole frames at the start of `bytes` end. */
function lastWhole(bytes: Buffer): number {
  let at = 0
  while (at + 16 <= bytes.length) {
    const size = 16 + bytes.readUInt32BE(at + 8) + bytes.readUInt32BE(at + 12)
    if (at + size > bytes.length) break
    at += size
  }
  return at
}
