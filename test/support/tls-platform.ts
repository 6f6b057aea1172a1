/**
 * A platform with TLS for tests: Auth, Accounts, Rules, Certificates and Registry on a
 * `platform` service that serves TLS only, with a certificate from its own CA (written to
 * a temp file as MICRO_TLS_CA for the services), enforcing auth, callers known by token or
 * client certificate.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Authority, type LoginResult } from '../../src/auth/authority.js'
import { type RunningCertificateAuthority, startCertificateAuthority } from '../../src/auth/ca/start.js'
import { authHandlers } from '../../src/auth/handler-admin.js'
import { platformAuthWrapper } from '../../src/auth/platform-wrapper.js'
import { Registry as RegistryHandler } from '../../src/platform/services/registry.js'
import { tracesHandler } from '../../src/platform/traces/handler.js'
import { MemoryTraceStore } from '../../src/platform/traces/memory-store.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import { createService, type Service } from '../../src/service/service.js'
import { MemoryStore } from '../../src/store/memory.js'
import { capturingLogger } from './auth-platform.js'

export interface TlsPlatform {
  authority: Authority
  certificates: RunningCertificateAuthority
  service: Service
  address: string
  /** The platform's own registry engine (what Registry.* serves). */
  registry: MemoryRegistry
  /** What Traces.Export fills: the spans services export to the platform. */
  traces: MemoryTraceStore
  /** The CA certificate file: MICRO_TLS_CA of services. */
  caFile: string
  dir: string
  logs: string[]
  /** Call the platform as an admin (over TLS, with the CA). */
  admin(endpoint: string, body: unknown): Promise<any>
  /** A service account `id` (scope service) in `namespace`; its secret. */
  serviceAccount(id: string, namespace?: string): Promise<string>
  close(): Promise<void>
}

export async function startTlsPlatform(): Promise<TlsPlatform> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-tls-platform-'))
  const logs: string[] = []
  const logger = capturingLogger(logs)
  const store = new MemoryStore()
  const keyFile = join(dir, 'encryption.key')
  const authority = await Authority.open({ store, mode: 'enforce', keyFile, env: {}, logger })
  const caFile = join(dir, 'ca.pem')
  const certificates = await startCertificateAuthority({ store, keyFile, env: {}, rootFile: caFile, logger })
  const registry = new MemoryRegistry()
  const service = createService({
    name: 'platform',
    address: '127.0.0.1:0',
    registry: new MemoryRegistry(),
    logger,
    handleSignals: false,
    env: {},
    tls: { ...certificates.serviceTls('micro', 'platform', ['127.0.0.1']), clientAuth: 'request' },
  })
  service.wrap(platformAuthWrapper(authority, { authenticators: [certificates.authenticator] }))
  for (const handler of authHandlers(authority)) service.handle(handler)
  service.handle(certificates.handler)
  service.handle(new RegistryHandler(registry))
  const traces = new MemoryTraceStore()
  service.handle(tracesHandler(traces), { name: 'Traces' })
  await service.start()
  const address = service.address as string
  const bootstrap = await authority.bootstrap()
  // The admin calls through a client service of its own that trusts the CA.
  const adminClient = createService({
    name: 'admin-cli',
    registry: new MemoryRegistry(),
    handleSignals: false,
    listen: false,
    logger,
    env: { MICRO_TLS: 'on', MICRO_TLS_CA: caFile },
  })
  await adminClient.start()
  const call = (endpoint: string, body: unknown, token?: string) =>
    adminClient.client.call<any>('platform', endpoint, body, {
      address,
      retries: 0,
      ...(token ? { metadata: { authorization: `Bearer ${token}` } } : {}),
    })
  const login = (await call('Auth.Login', { token: bootstrap })) as LoginResult
  const admin = (endpoint: string, body: unknown) => call(endpoint, body, login.token.accessToken)
  return {
    authority,
    certificates,
    service,
    address,
    registry,
    traces,
    caFile,
    dir,
    logs,
    admin,
    async serviceAccount(id, namespace = 'micro') {
      const created = await admin('Accounts.Create', { namespace, id, type: 'service', scopes: ['service'] })
      return created.secret as string
    },
    async close() {
      await adminClient.stop()
      await service.stop()
      authority.close()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
