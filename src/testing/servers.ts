/**
 * Where the integration tests find real servers. Each engine's address comes from an
 * environment variable; without it a test skips with a one-line reason, except in CI
 * (`CI=true`), where a missing server is a failure.
 */
export const TEST_SERVERS = {
  nats: 'MICRO_TEST_NATS',
  redis: 'MICRO_TEST_REDIS',
  postgres: 'MICRO_TEST_POSTGRES',
  amqp: 'MICRO_TEST_AMQP',
  mqtt: 'MICRO_TEST_MQTT',
} as const

/** A loopback server the integration tests use, named as in {@link TEST_SERVERS}. */
export type TestServer = keyof typeof TEST_SERVERS

/**
 * The address of a test server, or the reason to skip: pass the result to node:test as
 * `{ skip }`. Throws in CI when the variable is missing.
 *
 * ```ts
 * const nats = testServer('nats')
 * describe('nats broker', { skip: nats.skip }, () => { ... nats.address ... })
 * ```
 */
export function testServer(
  name: TestServer,
  env: NodeJS.ProcessEnv = process.env,
): { address: string; skip: false } | { address: undefined; skip: string } {
  const variable = TEST_SERVERS[name]
  const address = env[variable]
  if (address) return { address, skip: false }
  if (env.CI === 'true') {
    throw new Error(`${variable} is not set: in CI the ${name} server is required (it must not be skipped)`)
  }
  return { address: undefined, skip: `${variable} is not set; no ${name} server to test against` }
}
