/**
 * A real platform for the bot's tests: a `platform` service on 127.0.0.1:0 with the real
 * auth (Authority in enforce mode, its handlers and the platform wrapper), `Registry`
 * lookups and a `Proxy` over a shared registry, and the real `Runtime` on a LocalRuntime;
 * plus the services the chat commands reach (greeter, ops). The platform's own
 * building-block services (src/platform/services) are built elsewhere: this composes the
 * parts the CLI's commands call, with the request shapes src/cli/platform documents.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { Authority } from '../../src/auth/authority.js'
import { authHandlers } from '../../src/auth/handler-admin.js'
import { platformAuthWrapper } from '../../src/auth/platform-wrapper.js'
import { createLogger } from '../../src/logger/logger.js'
import { LocalRuntime } from '../../src/platform/runtime/local.js'
import { Runtime } from '../../src/platform/runtime/service.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import type { Context } from '../../src/server/context.js'
import { endpoint } from '../../src/server/endpoint.js'
import { createService, type Service } from '../../src/service/service.js'
import { MemoryStore } from '../../src/store/memory.js'
import { capturingLogger } from './auth-platform.js'
import { FAST_BACKOFF } from './runtime.js'

type Body = Record<string, any>

export interface BotPlatform {
  address: string
  authority: Authority
  registry: MemoryRegistry
  runtime: LocalRuntime
  /** Every log line of the platform. */
  logs: string[]
  /** The `tag`s of Greeter.Slow calls that saw their context abort (the bot's deadline cancelled them). */
  slowCancelled: Set<string>
  /** The `tag`s of Greeter.Slow calls in flight. */
  slowStarted: Set<string>
  /** Deploy requests Ops.Deploy received. */
  deploys: Body[]
  /** Create an account with `scopes`; resolves with its secret. */
  account(id: string, scopes: string[]): Promise<string>
  /** Grant `scope` the resource `service:<name>:<endpoint>` in `micro`. */
  grant(scope: string, name: string, endpoint: string, priority?: number): Promise<void>
  close(): Promise<void>
}

let rules = 0

export async function startBotPlatform(): Promise<BotPlatform> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-bot-platform-'))
  const logs: string[] = []
  const logger = capturingLogger(logs)
  const store = new MemoryStore()
  const authority = await Authority.open({
    store,
    mode: 'enforce',
    keyFile: join(dir, 'encryption.key'),
    env: {},
    logger,
  })
  const registry = new MemoryRegistry()
  const runtime = await LocalRuntime.open({
    store: new MemoryStore(),
    backoff: FAST_BACKOFF,
    stopTimeout: 5000,
    readyAfter: 600_000,
    dir: join(dir, 'runtime'),
  })
  const services: Service[] = []
  const start = async (name: string, setup: (service: Service) => void, wrap?: boolean) => {
    const service = createService({
      name,
      address: '127.0.0.1:0',
      registry,
      logger,
      handleSignals: false,
      env: {},
    })
    if (wrap) service.wrap(platformAuthWrapper(authority))
    setup(service)
    await service.start()
    services.push(service)
    return service
  }

  const platform = await start(
    'platform',
    (service) => {
      for (const handler of authHandlers(authority)) service.handle(handler)
      service.handle(new Runtime(runtime))
      service.handle(
        {
          GetService: async (req: Body) => ({
            services: await registry.getService(req.service, { namespace: req.namespace }),
          }),
          ListServices: async (req: Body) => ({
            services: await registry.listServices({ namespace: req.namespace }),
          }),
        },
        { name: 'Registry', endpoints: ['GetService', 'ListServices'] },
      )
      service.handle(
        {
          Call: (req: Body, ctx: Context) =>
            service.client.call(req.service, req.endpoint, req.request ?? {}, {
              namespace: req.namespace,
              metadata: req.metadata,
              timeout: req.timeout,
              signal: ctx.signal,
            }),
          async *Stream(input: AsyncIterable<Body>, ctx: Context) {
            const messages = input[Symbol.asyncIterator]()
            const first = await messages.next()
            if (first.done) return
            const target = first.value
            const stream = service.client.stream(target.service, target.endpoint, {
              namespace: target.namespace,
              metadata: target.metadata,
              signal: ctx.signal,
            })
            stream
              .sendAll({ [Symbol.asyncIterator]: () => messages })
              .catch(() => stream.cancel('input failed'))
            yield* stream
          },
        },
        { name: 'Proxy', endpoints: ['Call', 'Stream'] },
      )
    },
    true,
  )

  const state = { slowCancelled: new Set<string>(), slowStarted: new Set<string>(), deploys: [] as Body[] }
  await start('greeter', (service) => {
    service.handle(
      {
        Hello: async (req: Body) => ({ message: `Hello ${req.name}` }),
        // Far more than a chat reply holds.
        Big: async () => ({ lines: Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`) }),
        // Answers only when cancelled: the bot's deadline must reach it.
        Slow: (req: Body, ctx: Context) =>
          new Promise((_resolve, reject) => {
            const tag = String(req.tag)
            state.slowStarted.add(tag)
            ctx.signal.addEventListener(
              'abort',
              () => {
                state.slowStarted.delete(tag)
                state.slowCancelled.add(tag)
                reject(new Error('cancelled'))
              },
              { once: true },
            )
          }),
      },
      { name: 'Greeter', endpoints: ['Hello', 'Big', 'Slow'] },
    )
  })
  await start('ops', (service) => {
    service.handle(
      {
        Deploy: endpoint(
          {
            request: z.object({ service: z.string(), version: z.string(), instances: z.number().optional() }),
            metadata: { 'bot.command': 'deploy', 'bot.help': 'roll a service out to a version' },
          },
          async (req: Body) => {
            state.deploys.push(req)
            return { deployed: req.service, version: req.version, instances: req.instances ?? 1 }
          },
        ),
        // A second registration of a command name another service also uses.
        Rollback: endpoint({ metadata: { 'bot.command': 'rollback' } }, async () => ({ rolledBack: true })),
        // Names the bot ignores: a CLI command, and not a plain word.
        Shadow: endpoint({ metadata: { 'bot.command': 'services' } }, async () => ({ shadow: true })),
        Odd: endpoint({ metadata: { 'bot.command': 'Rm -rf' } }, async () => ({ odd: true })),
      },
      { name: 'Ops' },
    )
  })
  await start('audit', (service) => {
    service.handle(
      {
        Rollback: endpoint({ metadata: { 'bot.command': 'rollback' } }, async () => ({
          auditRolledBack: true,
        })),
      },
      { name: 'Trail' },
    )
  })

  return {
    address: platform.address as string,
    authority,
    registry,
    runtime,
    logs,
    slowCancelled: state.slowCancelled,
    slowStarted: state.slowStarted,
    deploys: state.deploys,
    async account(id, scopes) {
      const { secret } = await authority.accounts.create({ namespace: 'micro', id, scopes })
      return secret as string
    },
    async grant(scope, name, endpointName, priority = 10) {
      await authority.rules.create('micro', {
        id: `bot-test-${++rules}`,
        scope,
        resource: { type: 'service', name, endpoint: endpointName },
        access: 'granted',
        priority,
      })
    },
    async close() {
      for (const service of services.reverse()) await service.stop()
      await runtime.close()
      authority.close()
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A logger that drops everything (the bot's own lines in tests). */
export const quietLogger = createLogger({ level: 'silent' })
