import { Client } from '../../client/client.js'
import { eventsFromEnv } from '../../events/from-env.js'
import { createLogger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import { createRegistry } from '../../registry/from-env.js'
import { createSelector } from '../../selector/from-name.js'
import { storeFromEnv } from '../../store/from-env.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import type { DevHttp, DevHttpContext } from '../dev/http.js'
import { devRuntimeSource } from '../dev/runtime-source.js'
import { createTraceStore } from '../traces/index.js'
import { devPlatformHttp } from './mount.js'

/** Where `micro run` lists its processes as JSON. */
export const DEV_SERVICES_PATH = '/dev/services'

/**
 * What `micro run` serves on its address: the gateway, the dashboard, the OTLP receiver
 * and the OpenAPI document of `micro server`, over the dev loop's registry (its services
 * export their spans here: the dev loop sets OTEL_EXPORTER_OTLP_ENDPOINT to this address)
 * and this machine's store and events (the MICRO_* engines, opened on first use).
 */
export async function devMount(context: DevHttpContext): Promise<DevHttp> {
  const env = process.env
  const registry = createRegistry(context.registry, context.registryAddress, env)
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace: context.namespace,
    local: false,
    caller: 'micro.dashboard',
  })
  const traces = createTraceStore({}, env)
  const store = storeFromEnv(env)
  const events = eventsFromEnv(env, { namespace: context.namespace })
  // Captures each service's output from now on (the mount comes before any service starts).
  const runtime = devRuntimeSource(context)
  const http = devPlatformHttp({
    registry,
    client,
    namespace: context.namespace,
    traces,
    runtime,
    store,
    events,
    env,
    logger: createLogger({ fields: { component: 'micro.run' } }),
  })
  const base = `http://${context.address}`
  return {
    handle(req, res) {
      // The dev loop's own view of its processes (name, state, pid, restarts): `micro run`'s status.
      if (req.method === 'GET' && (req.url ?? '').split('?', 1)[0] === DEV_SERVICES_PATH) {
        const body = JSON.stringify({
          namespace: context.namespace,
          environment: context.environment,
          services: context.services(),
        })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
        return true
      }
      return http.handle(req, res)
    },
    upgrade: (req, socket, head) => http.upgrade?.(req, socket, head) ?? false,
    urls: [
      { label: 'Dashboard', url: `${base}/` },
      { label: 'Gateway', url: `${base}/api/<service>/<Handler.Method>` },
      { label: 'OpenAPI', url: `${base}/openapi.json` },
      { label: 'Services', url: `${base}${DEV_SERVICES_PATH}` },
    ],
    async close() {
      runtime.close()
      await http.close()
      await Promise.allSettled([client.close(), store.close(), events.close(), traces.close()])
      await registry.close()
    },
  }
}
