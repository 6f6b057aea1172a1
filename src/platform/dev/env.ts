import type { DevServiceSpec } from './types.js'

/** What the dev loop knows when it builds a service's environment. */
export interface ChildEnvContext {
  /** The dev loop's own environment (MICRO_REGISTRY and the other MICRO_* settings reach every service). */
  base: NodeJS.ProcessEnv
  /** `--namespace` > MICRO_NAMESPACE > the CLI environment's > micro. */
  namespace: string
  /** The project file's environment (`--env`, MICRO_ENV, default development). */
  environment: string
  /** `--registry` and `--registry_address`, when given. */
  registry?: string
  registryAddress?: string
  /** `host:port` of the gateway this dev loop serves; undefined when it serves none. */
  gateway?: string
}

/**
 * The environment of one service's processes: the single place it is built. Lowest first:
 *
 * 1. the dev loop's own environment;
 * 2. the dev loop's defaults: `MICRO_HTTP_PORT=0` (an http kind without a port in its
 *    types takes a free one, not 8080 where the gateway is, and can be swapped safely),
 *    `OTEL_EXPORTER_OTLP_ENDPOINT=http://<gateway>` when this dev loop serves the gateway
 *    (spans go to its `/v1/traces`); an inherited value of either wins over these;
 * 3. the project file's variables for the environment (shared, then the service's own);
 * 4. what the dev loop decides: `MICRO_ENV`, `MICRO_NAMESPACE`, the `--registry` flags,
 *    `MICRO_SERVER_ADDRESS` for a service with a `port`, and `MICRO_STOP_WITH_PARENT`
 *    (the service stops itself if the dev loop dies without stopping it).
 */
export function childEnv(spec: DevServiceSpec, context: ChildEnvContext): NodeJS.ProcessEnv {
  const defaults: Record<string, string> = { MICRO_HTTP_PORT: '0' }
  if (context.gateway) defaults.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${context.gateway}`
  const env: NodeJS.ProcessEnv = { ...defaults, ...context.base, ...spec.env }
  env.MICRO_ENV = context.environment
  env.MICRO_NAMESPACE = context.namespace
  if (context.registry) env.MICRO_REGISTRY = context.registry
  if (context.registryAddress) env.MICRO_REGISTRY_ADDRESS = context.registryAddress
  if (spec.port !== undefined) env.MICRO_SERVER_ADDRESS = `127.0.0.1:${spec.port}`
  env.MICRO_STOP_WITH_PARENT = '1'
  return env
}

/**
 * A port the service always listens on, which rules out running the new version next to
 * the old one: the project's `port`, a port in its types (`http:8080`), or a non-zero
 * `MICRO_HTTP_PORT` / `MICRO_SERVER_ADDRESS` port in its environment.
 */
export function fixedPort(
  spec: DevServiceSpec,
  kinds: readonly { kind: string; port?: number }[],
  env: NodeJS.ProcessEnv,
): number | undefined {
  if (spec.port !== undefined) return spec.port
  const typed = kinds.find((k) => k.port !== undefined)?.port
  if (typed !== undefined) return typed
  if (kinds.some((k) => k.kind === 'http')) {
    const http = Number(env.MICRO_HTTP_PORT)
    if (Number.isInteger(http) && http > 0) return http
  }
  const server = Number(env.MICRO_SERVER_ADDRESS?.split(':').pop())
  return Number.isInteger(server) && server > 0 ? server : undefined
}
