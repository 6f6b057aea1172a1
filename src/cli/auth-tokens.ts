import { open, rm, stat } from 'node:fs/promises'
import type { LoginResult } from '../auth/authority.js'
import { Client } from '../client/client.js'
import type { ClientWrapper } from '../client/wrappers.js'
import { MicroError } from '../errors/errors.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import { createSelector } from '../selector/from-name.js'
import { MicroTransport } from '../transport/micro-transport.js'
import {
  type CliConfig,
  configFile,
  currentEnvironment,
  DEFAULT_PLATFORM_ADDRESS,
  readCliConfig,
  writeCliConfig,
} from './environments.js'

/** A login the CLI keeps for one environment, in the config file (0600). */
export interface SavedLogin {
  /** The platform it was made with. */
  address: string
  namespace: string
  account: string
  accessToken: string
  refreshToken: string
  /** Epoch ms */
  expiry: number
  refreshExpiry: number
}

type ConfigWithTokens = CliConfig & { tokens?: Record<string, SavedLogin> }

/** Refresh this long before the access token expires. */
const REFRESH_BEFORE_MS = 60_000

/** Where a command's platform and its login are: the flag, MICRO_PLATFORM, the current environment, the default. */
export interface TokenTarget {
  /** The key of the login in the config file: `env:<name>` or `address:<host:port>`. */
  key: string
  address: string
}

/**
 * The login slot for a command: the current environment's (`micro env set`), or, with
 * `--platform`/MICRO_PLATFORM or no environment, the platform address's own.
 */
export async function tokenTarget(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TokenTarget> {
  const override = flag || env.MICRO_PLATFORM
  if (override) return { key: `address:${override}`, address: override }
  const current = currentEnvironment(await readCliConfig(env))
  if (current) return { key: `env:${current.name}`, address: current.address }
  return { key: `address:${DEFAULT_PLATFORM_ADDRESS}`, address: DEFAULT_PLATFORM_ADDRESS }
}

/** A client for calling the platform at an address (no registry needed). */
export function platformClient(): Client {
  return new Client({
    lookup: new RegistryCache(new MemoryRegistry()),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    retry: { retries: 1 },
    caller: 'micro.cli',
  })
}

/** Keep a login for `target` (the config file stays 0600). */
export async function saveLogin(
  target: TokenTarget,
  login: LoginResult,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SavedLogin> {
  const saved: SavedLogin = {
    address: target.address,
    namespace: login.account.issuer,
    account: login.account.id,
    accessToken: login.token.accessToken,
    refreshToken: login.token.refreshToken,
    expiry: login.token.expiry,
    refreshExpiry: login.token.refreshExpiry,
  }
  const config = (await readCliConfig(env)) as ConfigWithTokens
  config.tokens = { ...config.tokens, [target.key]: saved }
  await writeCliConfig(config, env)
  return saved
}

/** The login kept for `target`, if any. */
export async function savedLogin(
  target: TokenTarget,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SavedLogin | undefined> {
  return ((await readCliConfig(env)) as ConfigWithTokens).tokens?.[target.key]
}

/** Forget the login of `target`; resolves with what was kept. */
export async function forgetLogin(
  target: TokenTarget,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SavedLogin | undefined> {
  const config = (await readCliConfig(env)) as ConfigWithTokens
  const saved = config.tokens?.[target.key]
  if (saved === undefined) return undefined
  const { [target.key]: _, ...rest } = config.tokens ?? {}
  config.tokens = rest
  await writeCliConfig(config, env)
  return saved
}

/**
 * The access token for `target`, refreshed first when it expires within a minute; undefined
 * when not logged in. Two CLI processes never refresh at once (a lock file next to the
 * config): a refresh token is single use, and a second use would revoke the login.
 */
export async function accessTokenFor(
  target: TokenTarget,
  env: NodeJS.ProcessEnv = process.env,
  client?: Client,
): Promise<string | undefined> {
  const saved = await savedLogin(target, env)
  if (saved === undefined) return undefined
  if (saved.expiry - Date.now() > REFRESH_BEFORE_MS) return saved.accessToken
  return withConfigLock(env, async () => {
    const latest = await savedLogin(target, env)
    if (latest === undefined) return undefined
    if (latest.expiry - Date.now() > REFRESH_BEFORE_MS) return latest.accessToken
    const expired = () =>
      new MicroError(
        'micro.cli',
        `your login to ${target.address} has expired or was revoked: run micro login`,
        401,
      )
    if (latest.refreshExpiry <= Date.now()) throw expired()
    const own = client ?? platformClient()
    try {
      const login = await own.call<LoginResult>(
        'platform',
        'Auth.Token',
        { refreshToken: latest.refreshToken },
        {
          address: latest.address,
          timeout: 10_000,
        },
      )
      return (await saveLogin({ ...target, address: latest.address }, login, env)).accessToken
    } catch (error) {
      if (MicroError.from(error).code === 401) {
        await forgetLogin(target, env)
        throw expired()
      }
      throw error
    } finally {
      if (client === undefined) await own.close()
    }
  })
}

/** The token a CLI user's calls carry, or why the kept login could not give one. */
export interface CliUserToken {
  token: string | undefined
  /** The kept login has expired or was revoked (or could not be refreshed): what to tell the user. */
  problem?: MicroError
}

/**
 * The token a CLI user's calls carry: MICRO_AUTH_TOKEN when set, else the login `micro login`
 * kept for `flag`'s target (see {@link tokenTarget}), refreshed when due and read again every
 * 30 s (a long session, micro subscribe, outlives a token). A login that cannot be used
 * gives no token and the reason, so calls to services that need none still work.
 */
export function cliUserToken(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): () => Promise<CliUserToken> {
  const fixed = env.MICRO_AUTH_TOKEN
  if (fixed) {
    const value = Promise.resolve({ token: fixed })
    return () => value
  }
  let cached: Promise<CliUserToken> | undefined
  let readAt = 0
  return () => {
    if (cached === undefined || Date.now() - readAt > 30_000) {
      readAt = Date.now()
      cached = tokenTarget(flag, env)
        .then((target) => accessTokenFor(target, env))
        .then(
          (token) => ({ token }),
          (error: unknown) => ({ token: undefined, problem: MicroError.from(error) }),
        )
    }
    return cached
  }
}

/** `error`, or the kept login's problem when the call was refused for want of a token (401). */
export function explainRefusal(error: unknown, user: CliUserToken): unknown {
  return user.problem !== undefined && MicroError.from(error).code === 401 ? user.problem : error
}

/**
 * The session's hook: a client wrapper that sends the user's token ({@link cliUserToken}:
 * MICRO_AUTH_TOKEN, else the environment's login, refreshed when due) with every call that
 * sets no `authorization` itself. Calls that obtain tokens go without one. When the kept
 * login cannot be used the call goes without a token, and a 401 says to run micro login.
 */
export function cliAuthWrapper(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ClientWrapper {
  const userToken = cliUserToken(flag, env)
  return (next) => async (request) => {
    if (request.options.metadata?.authorization !== undefined) return next(request)
    if (request.service === 'platform' && /^Auth\.(Login|Token|PublicKeys)$/.test(request.endpoint))
      return next(request)
    const user = await userToken()
    if (user.token === undefined) {
      return next(request).catch((error: unknown) => {
        throw explainRefusal(error, user)
      })
    }
    const metadata = { ...request.options.metadata, authorization: `Bearer ${user.token}` }
    return next({ ...request, options: { ...request.options, metadata } })
  }
}

/** Whose token a CLI process sends to one platform: `current()` when at hand, `token()` reading (and refreshing) the saved login. */
export interface CliIdentity {
  current(): string | undefined
  token(): Promise<string | undefined>
}

/**
 * MICRO_AUTH_TOKEN when set; else the login `micro login` kept for the platform at `address` (the current environment's
 * slot when the environment names that address, else the address's own), read when first
 * needed and again every 30 s, refreshed when due. No login: calls go without a token.
 */
export function cliIdentity(address: string, env: NodeJS.ProcessEnv = process.env): CliIdentity {
  const fixed = env.MICRO_AUTH_TOKEN
  if (fixed) return { current: () => fixed, token: () => Promise.resolve(fixed) }
  let value: string | undefined
  let readAt = 0
  let pending: Promise<string | undefined> | undefined
  const read = async () => {
    const usual = await tokenTarget(undefined, env)
    const target = usual.address === address ? usual : { key: `address:${address}`, address }
    return accessTokenFor(target, env)
  }
  return {
    current: () => (Date.now() - readAt < 30_000 ? value : undefined),
    token() {
      if (Date.now() - readAt < 30_000) return Promise.resolve(value)
      pending ??= read()
        .then((token) => {
          value = token
          readAt = Date.now()
          return token
        })
        .finally(() => {
          pending = undefined
        })
      return pending
    },
  }
}

/** Run `fn` holding the config file's lock (made with O_EXCL; a lock older than 30 s is stale). */
async function withConfigLock<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const lock = `${configFile(env)}.lock`
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o600)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // No config directory yet: nothing to refresh against, nothing to race with.
        return fn()
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      )
      if (age > 30_000 || attempt > 200) await rm(lock, { force: true })
      else await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { force: true })
  }
}
