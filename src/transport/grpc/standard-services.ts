import type { Server } from '../../server/server.js'
import { rememberedServices } from './descriptors.js'
import { healthService } from './health.js'
import { reflectionService } from './reflection.js'
import type { GrpcRegistration } from './registration.js'

/**
 * The services every gRPC port serves beside the service's own: `grpc.health.v1.Health`
 * and server reflection (`grpc.reflection.v1` and `v1alpha`), as internal handlers (served,
 * not listed in the registry). `serving` reports readiness (started, checks passing).
 */
export function grpcStandardServices(server: Server, serving: () => Promise<boolean>): GrpcRegistration[] {
  const serves = (fullName: string) => {
    const service = rememberedServices().find((s) => s.typeName === fullName)
    return service?.methods.some((m) => server.streaming(`${service.name}.${m.name}`) !== undefined) === true
  }
  const registrations = [
    healthService({
      name: server.name,
      serving: async () => !server.draining && (await serving()),
      get draining() {
        return server.draining
      },
      serves,
    }),
    reflectionService(serves),
  ]
  for (const [, options] of registrations) options.internal = true
  return registrations
}
