/**
 * A real platform for auth tests: the `Auth`, `Accounts` and `Rules` handlers on a
 * `createService({ name: 'platform' })` on port 0 behind the platform wrapper, over a
 * memory store, with every log line captured (the attack tests grep them for secrets).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthMode } from '../../src/auth/auth.js'
import { Authority, type AuthorityOptions, type LoginResult } from '../../src/auth/authority.js'
import { authHandlers } from '../../src/auth/handler-admin.js'
import { platformAuthWrapper } from '../../src/auth/platform-wrapper.js'
import { Client } from '../../src/client/client.js'
import type { CallOptions } from '../../src/client/options.js'
import { createLogger, type Logger } from '../../src/logger/logger.js'
import { RegistryCache } from '../../src/registry/cache.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import { createSelector } from '../../src/selector/from-name.js'
import { createService, type Service } from '../../src/service/service.js'
import { MemoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { MicroTransport } from '../../src/transport/micro-transport.js'

/** A logger whose lines land in `lines`. */
export function capturingLogger(lines: string[]): Logger {
  return createLogger({ level: 'trace', write: (line) => void lines.push(line) })
}

/** A client that calls addresses directly over the micro protocol (no registry, no in-process short cut). */
export function directClient(): Client {
  return new Client({
    lookup: new RegistryCache(new MemoryRegistry()),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    retry: { retries: 0 },
  })
}

export interface TestPlatform {
  authority: Authority
  service: Service
  /** The platform port: `host:port`. */
  address: string
  registry: MemoryRegistry
  store: Store
  /** Every log line of the platform and the authority. */
  logs: string[]
  client: Client
  /** Call a platform endpoint over the network, with `token` as the bearer when given. */
  call<T = any>(endpoint: string, body: unknown, token?: string, options?: CallOptions): Promise<T>
  /** Log in as the first admin with the one-time token. */
  bootstrapAdmin(): Promise<LoginResult>
  close(): Promise<void>
}

export async function startPlatform(
  options: { mode?: AuthMode } & Partial<Omit<AuthorityOptions, 'store' | 'mode'>> = {},
): Promise<TestPlatform> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-auth-'))
  const logs: string[] = []
  const logger = capturingLogger(logs)
  const store = new MemoryStore()
  const authority = await Authority.open({
    ...options,
    store,
    mode: options.mode ?? 'enforce',
    keyFile: join(dir, 'encryption.key'),
    env: options.env ?? {},
    logger,
  })
  const registry = new MemoryRegistry()
  const service = createService({
    name: 'platform',
    address: '127.0.0.1:0',
    registry,
    logger,
    handleSignals: false,
    env: {},
  })
  service.wrap(platformAuthWrapper(authority))
  for (const handler of authHandlers(authority)) service.handle(handler)
  await service.start()
  const address = service.address as string
  const client = directClient()
  const call = <T>(endpoint: string, body: unknown, token?: string, callOptions: CallOptions = {}) =>
    client.call<T>('platform', endpoint, body, {
      ...callOptions,
      address,
      metadata: { ...callOptions.metadata, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
  return {
    authority,
    service,
    address,
    registry,
    store,
    logs,
    client,
    call,
    async bootstrapAdmin() {
      const token = await authority.bootstrap()
      if (token === undefined) throw new Error('the platform already has an admin')
      return call<LoginResult>('Auth.Login', { token })
    },
    async close() {
      await service.stop()
      await client.close()
      authority.close()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
