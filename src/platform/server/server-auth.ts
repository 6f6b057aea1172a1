import { join } from 'node:path'
import { openAuthFileStore } from '../../auth/auth-store.js'
import { Authority } from '../../auth/authority.js'
import { authorityGatewayAuthorizer, type GatewayAuthorizer } from '../../auth/gateway.js'
import { authHandlers } from '../../auth/handler-admin.js'
import { JWKS_PATH, jwksHandler } from '../../auth/jwks.js'
import { platformAuthWrapper } from '../../auth/platform-wrapper.js'
import type { Logger } from '../../logger/logger.js'
import { Extensions } from '../../service/extensions.js'
import type { Service } from '../../service/service.js'
import type { Store } from '../../store/store.js'
import { platformAccessWrapper } from './access.js'
import type { ScopesOf } from './gateway-auth.js'
import type { PathHandler } from './http.js'
import { RuntimeIdentities } from './identities.js'
import type { ServerSettings } from './options.js'

/** The server's auth: the authority and what each port gets of it. */
export interface ServerAuth {
  readonly authority: Authority
  /** The auth records are in the store the `Store` block serves (not the file engine's own directory). */
  readonly shared: boolean
  /** The platform port's GET routes: the JWKS. */
  readonly extensions: Extensions
  /** `GET /.well-known/jwks.json` for the HTTP port. */
  readonly jwks: PathHandler
  readonly gatewayAuthorizer: GatewayAuthorizer
  /** Service accounts for the runtime's services (when enforcing). */
  readonly identities: RuntimeIdentities
  /** Wrap the platform service (the auth wrapper, then the namespace checks) and add Auth, Accounts, Rules. */
  setup(service: Service): void
  close(): Promise<void>
}

/**
 * Open the platform's auth on the server's store. On the file engine the records get an
 * LMDB store of their own (`~/.micro/auth`, 0700, files 0600), away from the
 * `~/.micro/store` every local service opens; on a shared engine (Redis, PostgreSQL,
 * NATS) they share the platform's store, and the `Store` block refuses database `auth` of
 * namespace `micro`. Keys are refreshed in the background so replicas see rotations.
 */
export async function openServerAuth(
  settings: ServerSettings,
  store: Store,
  scopesOf: ScopesOf,
  logger: Logger,
): Promise<ServerAuth> {
  const own = store.name === 'file'
  const authStore = own ? await openAuthFileStore(settings.authDir) : store
  let authority: Authority
  try {
    authority = await Authority.open({
      store: authStore,
      mode: settings.mode,
      keyFile: join(settings.authDir, 'encryption.key'),
      env: settings.env,
      scopesOf,
      logger,
    })
  } catch (error) {
    if (own) await authStore.close()
    throw error
  }
  authority.startRefresh()
  const keys = () => authority.publicKeys()
  const extensions = new Extensions()
  const jwks = jwksHandler(keys)
  extensions.httpRoutes.set(JWKS_PATH, (req, res) => jwks(req, res))
  return {
    authority,
    shared: !own,
    extensions,
    jwks,
    gatewayAuthorizer: authorityGatewayAuthorizer(authority),
    identities: new RuntimeIdentities(authority, logger),
    setup(service) {
      service.wrap(
        platformAuthWrapper(authority, { scopesOf }),
        platformAccessWrapper({ guardAuthDatabase: !own }),
      )
      for (const handler of authHandlers(authority)) service.handle(handler)
    },
    async close() {
      authority.close()
      if (own) await authStore.close()
    },
  }
}
