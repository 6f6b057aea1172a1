import { fileURLToPath } from 'node:url'
import { createLogger } from '../../../logger/logger.js'
import { MemoryRegistry } from '../../../registry/memory.js'
import { createService, type Service } from '../../../service/service.js'
import { grpcHandler } from '../handler.js'
import { GrpcTransport } from '../transport.js'
import { Greeter } from './gen/greeter_pb.js'
import { type GreeterLog, testGreeter } from './greeter.js'

/** Paths of the .proto files the interop tests give to other clients' tooling. */
export const PROTO_ROOT = fileURLToPath(new URL('../proto', import.meta.url))
export const TESTDATA = fileURLToPath(new URL('.', import.meta.url))

/** A `greeter` service on the gRPC transport serving the test Greeter, started; stop it after. */
export async function serveGreeter(
  options: { registry?: MemoryRegistry; address?: string } = {},
): Promise<{ service: Service; log: GreeterLog; registry: MemoryRegistry }> {
  const registry = options.registry ?? new MemoryRegistry()
  const log: GreeterLog = { calls: {}, waits: [], metadata: [] }
  const service = createService({
    name: 'greeter',
    registry,
    transport: new GrpcTransport(),
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
    ...(options.address ? { address: options.address } : {}),
  })
  service.handle(...grpcHandler(Greeter, testGreeter(log)))
  await service.start()
  return { service, log, registry }
}
