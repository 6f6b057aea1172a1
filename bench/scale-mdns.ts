/**
 * Phase 10, parts 2 and 3, both on a private mDNS group port on loopback (not 5353, so other
 * processes on the machine add nothing):
 *
 * - idle CPU: one Greeter service (the phase 2 fixture) idles among 0, 10 and 50 peers (real
 *   services with their own mDNS sockets, several to a process, registered and renewed as
 *   services are); its CPU time over the window and its RSS after it.
 * - forged packets: this process calls a Greeter service in another process in a loop, while
 *   one deflate bomb (4 KiB inflating to 4 MiB of `[`) and then 10 a second for 5 s arrive
 *   on the group, sent from the group port; every call's latency is kept per window.
 */
import { randomUUID } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { deflateRawSync } from 'node:zlib'
import dnsPacket from 'dns-packet'
import { createLogger, createService } from 'micro-ts'
import { MdnsRegistry } from 'micro-ts/registry'
import { type Fixture, spawnFixture } from './children.js'
import { readCpuMs, readRssMb } from './proc.js'
import { type LatencySummary, summarize } from './stats.js'

const GROUP = '224.0.0.251'
const serverScript = fileURLToPath(new URL('./fixtures/micro-server.js', import.meta.url))
const peersScript = fileURLToPath(new URL('./fixtures/scale-peers.js', import.meta.url))

/** Settings of the mDNS parts of the scale phase. */
export interface MdnsScaleConfig {
  peers: number[]
  peersPerProcess: number
  idleMs: number
  /** Calls measured before, after one forged packet, and during the flood, per window. */
  baselineMs: number
  afterOneMs: number
  floodSeconds: number
  floodPerSecond: number
}

export interface IdleRow {
  peers: number
  /** CPU of the idle service over the window, share of one core. */
  cpu: number
  rssMb: number
}

export interface FloodRow {
  window: 'before' | 'one forged packet' | 'flood'
  forged: number
  latency: LatencySummary
  errors: number
}

async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4')
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve))
  const { port } = probe.address()
  await new Promise<void>((resolve) => probe.close(resolve))
  return port
}

function groupEnv(port: number, namespace: string): Record<string, string> {
  return {
    MICRO_REGISTRY: 'mdns',
    MICRO_REGISTRY_ADDRESS: `${GROUP}:${port}`,
    BENCH_NAMESPACE: namespace,
  }
}

/** The idle CPU and RSS of one service among `peers` peers. */
export async function measureIdle(peers: number, c: MdnsScaleConfig): Promise<IdleRow> {
  const env = groupEnv(await freeUdpPort(), `bench-idle-${randomUUID().slice(0, 8)}`)
  const fixtures: Fixture[] = []
  try {
    for (let offset = 0; offset < peers; offset += c.peersPerProcess) {
      const count = Math.min(c.peersPerProcess, peers - offset)
      const peer = spawnFixture(peersScript, {
        env: { ...env, BENCH_PEERS: String(count), BENCH_PEER_OFFSET: String(offset) },
      })
      fixtures.push(peer)
      await peer.waitFor('ready', 60_000)
    }
    const service = spawnFixture(serverScript, { env })
    fixtures.push(service)
    await service.waitFor('ready', 15_000)
    await sleep(1000) // past start-up work
    const before = readCpuMs(service.pid)
    await sleep(c.idleMs)
    const cpu = (readCpuMs(service.pid) - before) / c.idleMs
    return { peers, cpu, rssMb: await readRssMb(service.pid) }
  } finally {
    await Promise.all(fixtures.map((f) => f.stop()))
  }
}

/** Call latencies while forged packets arrive on the group: before, after one, during a flood. */
export async function measureFlood(c: MdnsScaleConfig): Promise<FloodRow[]> {
  const port = await freeUdpPort()
  const namespace = `bench-flood-${randomUUID().slice(0, 8)}`
  const server = spawnFixture(serverScript, { env: groupEnv(port, namespace) })
  const attacker = await attackerSocket(port)
  const caller = createService({
    name: 'flood-caller',
    namespace,
    registry: new MdnsRegistry({ port, logger: createLogger({ level: 'silent' }) }),
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
  })
  try {
    await server.waitFor('ready', 15_000)
    const call = () => caller.client.call('greeter', 'Greeter.Hello', { name: 'flood' }, { timeout: 10_000 })
    await callFor(1000, call) // warm-up: connection, lookup, JIT
    const rows: FloodRow[] = []
    rows.push({ window: 'before', forged: 0, ...(await callFor(c.baselineMs, call)) })
    const bomb = deflateRawSync(Buffer.alloc(4 * 1024 * 1024, 0x5b), { level: 9 })
    const one = callFor(c.afterOneMs, call)
    await send(attacker, forgedResponse(namespace, bomb), port)
    rows.push({ window: 'one forged packet', forged: 1, ...(await one) })
    const flood = callFor(c.floodSeconds * 1000 + 1000, call)
    const count = c.floodSeconds * c.floodPerSecond
    for (let i = 0; i < count; i++) {
      await send(attacker, forgedResponse(namespace, bomb), port)
      await sleep(1000 / c.floodPerSecond)
    }
    rows.push({ window: 'flood', forged: count, ...(await flood) })
    return rows
  } finally {
    attacker.close()
    await caller.stop().catch(() => {})
    await caller.registry.close()
    await server.stop()
  }
}

/** Sequential calls for `ms`: their latencies and how many failed. */
async function callFor(
  ms: number,
  call: () => Promise<unknown>,
): Promise<{ latency: LatencySummary; errors: number }> {
  const latencies = new Float64Array(200_000)
  let count = 0
  let errors = 0
  const end = performance.now() + ms
  while (performance.now() < end && count < latencies.length) {
    const t0 = performance.now()
    try {
      await call()
    } catch {
      errors++
    }
    latencies[count++] = performance.now() - t0
  }
  return { latency: summarize(latencies, count), errors }
}

/** Sends from the group port, as responders do, so the RFC 6762 port rule lets it through. */
async function attackerSocket(port: number): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, GROUP, () => resolve())
  })
  socket.setMulticastInterface('127.0.0.1')
  socket.setMulticastLoopback(true)
  return socket
}

function send(socket: Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(packet, port, GROUP, (error) => (error ? reject(error) : resolve())),
  )
}

/**
 * A response shaped like ours (see src/registry/README.md: the instance name ends in
 * `._micro._tcp.<namespace>.local`), under a fresh name each time so nothing is remembered.
 */
function forgedResponse(namespace: string, payload: Buffer): Buffer {
  const instance = `forged-${randomUUID().slice(0, 8)}-000000000000._micro._tcp.${namespace}.local`
  const chunks: Buffer[] = []
  for (let i = 0; i < payload.length; i += 255) chunks.push(payload.subarray(i, i + 255))
  return dnsPacket.encode({
    type: 'response',
    answers: [
      { type: 'PTR', name: `_micro._tcp.${namespace}.local`, ttl: 120, data: instance },
      { type: 'TXT', name: instance, ttl: 120, data: chunks },
    ],
  })
}
