import { MicroError } from '../../errors/errors.js'
import { GLOBAL_HELP, parseCommand } from '../args.js'
import { forgetLogin, platformClient, tokenTarget } from '../auth-tokens.js'

export const LOGOUT_HELP = `Usage: micro logout [--platform <host:port>]

Revoke this login on the platform and forget its tokens.
${GLOBAL_HELP}`

/** `micro logout`: revoke the refresh token (best effort) and remove the tokens from the config file. */
export async function logoutCommand(
  argv: string[],
  out: (text: string) => void,
  io: { env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const { global, values } = parseCommand(argv, { platform: { type: 'string' } })
  if (global.help) {
    out(LOGOUT_HELP)
    return 0
  }
  const env = io.env ?? process.env
  const target = await tokenTarget(values.platform as string | undefined, env)
  const saved = await forgetLogin(target, env)
  if (saved === undefined) {
    out(`not logged in to ${target.address}`)
    return 0
  }
  const client = platformClient()
  try {
    await client.call(
      'platform',
      'Auth.Logout',
      { refreshToken: saved.refreshToken },
      { address: saved.address, timeout: 10_000 },
    )
    out(`logged out of ${saved.address} (${saved.account})`)
  } catch (error) {
    // The tokens are gone from here either way; say the platform may still honour the access token until it expires.
    out(
      `forgot the login to ${saved.address}; the platform could not be told (${MicroError.from(error).detail})`,
    )
  } finally {
    await client.close()
  }
  return 0
}
