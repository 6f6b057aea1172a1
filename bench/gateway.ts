/**
 * Phase 11: the gateway. HTTP -> RPC -> service, against moleculer-web doing the same work
 * and a bare node:http server answering the same JSON in one hop. Servers (gateway and
 * service, or the bare server) on core 0, the load generator (autocannon, its own process)
 * on core 1, 64 keep-alive connections with one request each in flight.
 */
import { fileURLToPath } from 'node:url'
import { type Fixture, freePort, type Line, spawnFixture } from './children.js'
import type { LoadResult } from './load.js'
import { machineBusyMs, readCpuMs, WindowCpu } from './proc.js'
import { type RemoteResult, type RemoteRun, uniqueName } from './remote.js'

/** The systems of the gateway phase. */
export const GATEWAY_SYSTEMS = ['micro-ts', 'moleculer-web', 'bare'] as const
export type GatewaySystem = (typeof GATEWAY_SYSTEMS)[number]

export interface GatewayBenchOptions {
  connections: number
  warmupMs: number
  durationMs: number
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))

/** The server fixtures of a system, started in order, and the settings they share. */
async function serversOf(system: GatewaySystem): Promise<{ names: string[]; env: Record<string, string> }> {
  switch (system) {
    case 'micro-ts':
      return { names: ['micro-server', 'gateway-micro'], env: { BENCH_NAMESPACE: uniqueName('bench-gw') } }
    case 'moleculer-web':
      return {
        names: ['moleculer-server', 'gateway-moleculer'],
        env: { BENCH_PORT: String(await freePort()), BENCH_NODE_ID: `bench-server-${process.pid}` },
      }
    case 'bare':
      return { names: ['gateway-bare'], env: {} }
  }
}

/**
 * Run one system once: start its servers, wait until they serve, drive them, stop them.
 * `extraEnv` goes to the servers (BENCH_GATEWAY_AUTH=on: phase 18's gateway with auth).
 */
export async function runGateway(
  system: GatewaySystem,
  options: GatewayBenchOptions,
  extraEnv: Record<string, string> = {},
): Promise<RemoteResult> {
  const { names, env: own } = await serversOf(system)
  const env = { ...own, ...extraEnv }
  const servers: Fixture[] = []
  try {
    let url: string | undefined
    let authorization: string | undefined
    for (const name of names) {
      const server = spawnFixture(fixture(name), { env, core: 0 })
      servers.push(server)
      const ready = await server.waitFor('ready', 20_000)
      if (typeof ready.data.url === 'string') url = ready.data.url
      if (typeof ready.data.authorization === 'string') authorization = ready.data.authorization
    }
    if (url === undefined) throw new Error(`${system}: no fixture printed the url to load`)
    const serverCpu = new WindowCpu(() => servers.reduce((sum, s) => sum + readCpuMs(s.pid), 0))
    const machineCpu = new WindowCpu(machineBusyMs)
    const onLine = ({ data }: Line) => {
      if (data.mark === undefined) return
      serverCpu.mark(data.concurrency as number, data.mark === 'start')
      machineCpu.mark(data.concurrency as number, data.mark === 'start')
    }
    const load = spawnFixture(fixture('http-load'), {
      env: {
        BENCH_URL: url,
        BENCH_CONNECTIONS: String(options.connections),
        BENCH_WARMUP_MS: String(options.warmupMs),
        BENCH_DURATION_MS: String(options.durationMs),
        ...(authorization ? { BENCH_AUTHORIZATION: authorization } : {}),
      },
      core: 1,
      onLine,
    })
    try {
      const result = await load.waitFor('result', options.warmupMs + options.durationMs + 30_000)
      const runs = (result.data.runs as LoadResult[]).map((run): RemoteRun => {
        const serverCpuMs = serverCpu.used(run.concurrency)
        const machineMs = machineCpu.used(run.concurrency)
        const otherCpuMs =
          serverCpuMs === undefined || machineMs === undefined
            ? undefined
            : Math.max(0, machineMs - serverCpuMs - run.clientCpuMs)
        return { ...run, serverCpuMs, engineCpuMs: undefined, otherCpuMs }
      })
      return { system, runs }
    } finally {
      if (!(await load.exited(20_000))) await load.stop()
    }
  } finally {
    for (const server of servers.reverse()) await server.stop()
  }
}
