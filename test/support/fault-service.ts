import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MicroError } from '../../src/errors/errors.js'
import { createLogger } from '../../src/logger/logger.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import type { Context } from '../../src/server/context.js'
import type { ServiceOptions } from '../../src/service/options.js'
import { createService, type Service } from '../../src/service/service.js'

/** What the fault service's handlers saw, for assertions. */
export interface FaultLog {
  aborted: unknown[]
  streamsAborted: number
  /** Requests that reached `Fault.Count`. */
  counted: number
  /** Streams opened on `Fault.Hold` and not yet over. */
  holding: number
  /** Calls to `Fault.Gated` wait until this is called. */
  openGate: () => void
}

/**
 * A service with handlers that misbehave on request: throw, hang until canceled, stream,
 * hold a stream without reading it, fail on a missing file. Used by the bad-input,
 * killed-peer and abuse tests; `options` override the service's (limits, timeouts).
 */
export async function startFaultService(
  maxFrameSize = 64 * 1024,
  options: Partial<ServiceOptions> = {},
): Promise<{ service: Service; log: FaultLog }> {
  let openGate = () => {}
  const gate = new Promise<void>((resolve) => {
    openGate = resolve
  })
  const log: FaultLog = { aborted: [], streamsAborted: 0, counted: 0, holding: 0, openGate }
  const service = createService({
    name: 'faulty',
    registry: new MemoryRegistry(),
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
    maxFrameSize,
    shutdownTimeout: 1000,
    ...options,
  })
  service.handle(
    {
      Echo: async (req: unknown) => req,
      Gated: async (req: unknown) => {
        await gate
        return req
      },
      Count: async (req: unknown) => {
        log.counted++
        return req
      },
      // An ENOENT whose message names the absolute path of a file under the working directory.
      ReadMissing: async () => readFile(join(process.cwd(), 'no-such-dir', 'secret.json')),
      // Reads nothing until the gate opens, then counts every message.
      async *Tally(input: AsyncIterable<unknown>) {
        await gate
        let count = 0
        for await (const _ of input) count++
        yield { count }
      },
      // A stream that never reads its input: what arrives stays buffered until it ends.
      async *Hold(_input: AsyncIterable<unknown>, ctx: Context) {
        log.holding++
        try {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
        } finally {
          log.holding--
        }
        yield { held: true }
      },
      Throw: async () => {
        throw new Error('handler blew up')
      },
      Refuse: async () => {
        throw new MicroError('faulty', 'not allowed', 403)
      },
      Hang: (_req: unknown, ctx: Context) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            log.aborted.push(ctx.signal.reason)
            resolve('too late')
          })
        }),
      async *Ticks(input: AsyncIterable<{ every?: number }>, ctx: Context) {
        ctx.signal.addEventListener('abort', () => log.streamsAborted++)
        for await (const req of input) {
          for (let i = 0; !ctx.signal.aborted; i++) {
            yield { i }
            await new Promise((r) => setTimeout(r, req.every ?? 10))
          }
        }
      },
    },
    { name: 'Fault' },
  )
  await service.start()
  return { service, log }
}
