import type { LoginResult } from '../../auth/authority.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { platformClient, saveLogin, tokenTarget } from '../auth-tokens.js'
import { readStdin } from '../input.js'

export const LOGIN_HELP = `Usage: micro login [--token <token>] [--id <account> --secret-stdin] [options]

Log in to the current environment's platform (micro env set), or to --platform, and keep
the tokens in the CLI's config file (mode 0600); commands then send them, refreshed before
they expire.

  micro login --token <token>                 the one-time admin token micro server printed
  micro login --id alice                      asks for the secret (on a terminal)
  echo "$SECRET" | micro login --id ci --secret-stdin

Options:
  --token <token>          the one-time admin token
  --id <account>           the account to log in as
  --secret-stdin           read the secret from standard input
  --platform <host:port>   the platform (MICRO_PLATFORM; default: the environment's)
${GLOBAL_HELP}`

export interface LoginIO {
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean }
  env?: NodeJS.ProcessEnv
}

/** `micro login`: exchange the one-time admin token, or an account's id and secret, for tokens. */
export async function loginCommand(
  argv: string[],
  out: (text: string) => void,
  io: LoginIO = {},
): Promise<number> {
  const { global, values } = parseCommand(argv, {
    token: { type: 'string' },
    id: { type: 'string' },
    'secret-stdin': { type: 'boolean' },
    platform: { type: 'string' },
  })
  if (global.help) {
    out(LOGIN_HELP)
    return 0
  }
  const env = io.env ?? process.env
  const stdin = io.stdin ?? process.stdin
  const token = values.token as string | undefined
  const id = values.id as string | undefined
  if ((token === undefined) === (id === undefined)) throw new UsageError('give either --token or --id')
  let body: Record<string, string>
  if (token !== undefined) {
    body = { token }
  } else {
    const secret = values['secret-stdin']
      ? (await readStdin(stdin)).replace(/\r?\n$/, '')
      : await promptSecret(stdin)
    if (secret === '') throw new UsageError('the secret is empty')
    body = { namespace: global.namespace, id: id as string, secret }
  }
  const target = await tokenTarget(values.platform as string | undefined, env)
  const client = platformClient()
  try {
    const login = await client.call<LoginResult>('platform', 'Auth.Login', body, {
      address: target.address,
      timeout: 15_000,
    })
    const saved = await saveLogin(target, login, env)
    out(
      `logged in to ${target.address} as ${saved.account} (namespace ${saved.namespace}); the token is refreshed until ${new Date(saved.refreshExpiry).toISOString()}`,
    )
    return 0
  } finally {
    await client.close()
  }
}

/** Ask for the secret on a terminal without echoing it. */
async function promptSecret(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  if (!stdin.isTTY) throw new UsageError('give the secret on standard input with --secret-stdin')
  const { createInterface } = await import('node:readline')
  const { Writable } = await import('node:stream')
  // The prompt goes to stderr; what is typed is not echoed.
  process.stderr.write('secret: ')
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() })
  const lines = createInterface({ input: stdin, output: silent, terminal: true })
  try {
    return await new Promise<string>((resolve) => lines.question('', resolve))
  } finally {
    lines.close()
    process.stderr.write('\n')
  }
}
