import { authorizeCall } from '../../auth/call-auth.js'
import { PLATFORM_NAMESPACE } from '../../auth/rules.js'
import { forbidden } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import type { HandlerFn } from '../../server/handlers.js'
import type { EndpointInfo, HandlerWrapper } from '../../server/wrappers.js'

/** What a platform endpoint needs of its caller in the namespace its request names. */
type Need =
  /** Nothing here: the rules (Proxy.*: the target's), or the handler itself (Auth, Accounts, Rules). */
  | 'rules'
  /** An account of the namespace (or a `micro` admin or service). */
  | 'member'
  /** A user holding `admin` or a service holding `service`, of the namespace (or of `micro`). */
  | 'admin'

type Body = Record<string, unknown>

/**
 * Micro v3's namespace rule per endpoint: reads need an account of the namespace, changes
 * to the registry, the store, config and the runtime need its admin. Endpoints not listed
 * need an admin (fail closed).
 */
const NEEDS: Record<string, Need | ((body: Body) => Need)> = {
  'Registry.Register': 'admin',
  'Registry.Deregister': 'admin',
  'Registry.GetService': 'member',
  'Registry.ListServices': 'member',
  'Registry.Watch': 'member',
  'Broker.Publish': 'member',
  'Broker.Subscribe': 'member',
  'Events.Publish': 'member',
  'Events.Read': 'member',
  'Events.Consume': 'member',
  'Events.Topics': 'member',
  'Events.Groups': 'member',
  // Publishes again what a consumer gave up on: as a publish, any account of the namespace.
  'Events.ReplayDeadLetter': 'member',
  // Micro v3's store service needed an admin of the namespace for every call.
  'Store.Read': 'admin',
  'Store.Write': 'admin',
  'Store.Delete': 'admin',
  'Store.List': 'admin',
  'Store.Databases': 'admin',
  'Store.Tables': 'admin',
  // Secrets are opened for admins only; their sealed form is `[secret]` for anyone.
  'Config.Get': (body) => (body.secret === true ? 'admin' : 'member'),
  'Config.Read': (body) => (body.secret === true ? 'admin' : 'member'),
  'Config.Set': 'admin',
  'Config.Delete': 'admin',
  'Runtime.Create': 'admin',
  'Runtime.Update': 'admin',
  'Runtime.Delete': 'admin',
  'Runtime.Read': 'member',
  'Runtime.Logs': 'member',
  'Proxy.Call': 'rules',
  'Proxy.Stream': 'rules',
}

/** Handlers that check their callers themselves, or serve everyone the rules let in. */
const SELF_CHECKED = ['Auth.', 'Accounts.', 'Rules.']

/** Traces mix every namespace's services, so reading them takes `micro`; exporting is left to the rules. */
const TRACES_READ = new Set(['Traces.List', 'Traces.Get'])

export interface AccessOptions {
  /**
   * The auth records share the store the `Store` block serves (Redis, PostgreSQL, NATS,
   * memory): refuse database `auth` of namespace `micro` to every caller.
   */
  guardAuthDatabase?: boolean
}

/**
 * The platform's namespace checks, inside `platformAuthWrapper` (which established the
 * caller and applied the rules): each endpoint calls `authorizeCall(ctx, namespace,
 * { admin })` for the namespace its request names (streams: the first message), as
 * Micro v3's services did. In open mode an anonymous local caller passes; a caller that
 * sent a token is held to its account.
 */
export function platformAccessWrapper(options: AccessOptions = {}): HandlerWrapper {
  return (next: HandlerFn, info: EndpointInfo): HandlerFn => {
    const name = info.name
    if (SELF_CHECKED.some((prefix) => name.startsWith(prefix)) || name === 'Traces.Export') return next
    const need = NEEDS[name]
    if (need === 'rules') return next
    const guard = options.guardAuthDatabase === true && name.startsWith('Store.')
    const check = (body: Body, ctx: Context) => {
      if (TRACES_READ.has(name)) {
        authorizeCall(ctx, PLATFORM_NAMESPACE)
        return
      }
      const namespace = namespaceIn(body)
      if (guard && namespace === PLATFORM_NAMESPACE && body.database === 'auth') {
        throw forbidden(
          'micro.platform',
          'database auth of namespace micro holds the platform accounts and keys and is not served',
        )
      }
      const needed = typeof need === 'function' ? need(body) : (need ?? 'admin')
      // Every namespace at once (lists and watches of `*`) is for `micro`'s admins and services.
      if (namespace === '*') authorizeCall(ctx, PLATFORM_NAMESPACE, { admin: true })
      else authorizeCall(ctx, namespace, { admin: needed === 'admin' })
    }
    if (!info.stream) {
      return (req, ctx) => {
        check(objectOf(req), ctx)
        return next(req, ctx)
      }
    }
    return async (req, ctx) => {
      const [first, replayed] = await peekFirst(req as AsyncIterable<unknown>)
      check(objectOf(first), ctx)
      return next(replayed, ctx)
    }
  }
}

/** The namespace a request names, as the handlers read it (`micro` when it names none). */
function namespaceIn(body: Body): string {
  const value = body.namespace
  return typeof value === 'string' && value !== '' ? value : PLATFORM_NAMESPACE
}

function objectOf(value: unknown): Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {}
}

/** A stream's first message, and the stream again with it in front. */
async function peekFirst(input: AsyncIterable<unknown>): Promise<[unknown, AsyncIterable<unknown>]> {
  const iterator = input[Symbol.asyncIterator]()
  const first = await iterator.next()
  async function* replay(): AsyncGenerator<unknown> {
    try {
      if (first.done) return
      yield first.value
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        yield next.value
      }
    } finally {
      await iterator.return?.()
    }
  }
  return [first.done ? undefined : first.value, replay()]
}
