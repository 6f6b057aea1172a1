import { MicroError } from '../../src/errors/errors.js'
import { createLogger } from '../../src/logger/logger.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import type { Context } from '../../src/server/context.js'
import { createService, type Service } from '../../src/service/service.js'

/** What the fault service's handlers saw, for assertions. */
export interface FaultLog {
  aborted: unknown[]
  streamsAborted: number
}

/**
 * A service with handlers that misbehave on request: throw, hang until canceled, stream.
 * Used by the bad-input and killed-peer tests.
 */
export async function startFaultService(
  maxFrameSize = 64 * 1024,
): Promise<{ service: Service; log: FaultLog }> {
  const log: FaultLog = { aborted: [], streamsAborted: 0 }
  const service = createService({
    name: 'faulty',
    registry: new MemoryRegistry(),
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
    maxFrameSize,
    shutdownTimeout: 1000,
  })
  service.handle(
    {
      Echo: async (req: unknown) => req,
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
