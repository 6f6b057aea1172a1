import type { Account, Decision, Rule } from '../../auth/auth.js'
import { MicroError } from '../../errors/errors.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { accessTokenFor, platformClient, tokenTarget } from '../auth-tokens.js'
import { readStdin } from '../input.js'

export const AUTH_HELP = `Usage: micro auth <command> [options]

Accounts, rules and tokens of the platform (the current environment's, or --platform).

  micro auth token                                  print the current access token (for curl)
  micro auth create account <id> [--type user|service] [--scopes a,b] [--secret-stdin]
  micro auth create rule <id> --resource service:greeter:* [--scope s] [--access granted|denied] [--priority n]
  micro auth list accounts|rules
  micro auth delete account <id>
  micro auth delete rule <id>
  micro auth check <account> <service> <Endpoint> [--account-namespace ns]
  micro auth rotate                                 start signing with a new key

A created account's generated secret is printed once. Rule scopes: '' public, '*' any
account of the namespace, '+' any account of any namespace, or a scope name.

Options:
  --type <user|service>       create account: the account type (default user)
  --scopes <a,b>              create account: its scopes
  --secret-stdin              create account: read its secret from standard input
  --resource <type:name:ep>   create rule: what it covers
  --scope <scope>             create rule: who it is for (default '*')
  --access <granted|denied>   create rule (default granted)
  --priority <n>              create rule: higher first (default 0)
  --account-namespace <ns>    check: the account's namespace (default --namespace)
  --platform <host:port>      the platform (MICRO_PLATFORM; default: the environment's)
${GLOBAL_HELP}`

export interface AuthIO {
  stdin?: NodeJS.ReadableStream
  env?: NodeJS.ProcessEnv
}

/** `micro auth ...`: manage accounts and rules, print the token, check the policy. */
export async function authCommand(
  argv: string[],
  out: (text: string) => void,
  io: AuthIO = {},
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    type: { type: 'string' },
    scopes: { type: 'string' },
    'secret-stdin': { type: 'boolean' },
    resource: { type: 'string' },
    scope: { type: 'string' },
    access: { type: 'string' },
    priority: { type: 'string' },
    'account-namespace': { type: 'string' },
    platform: { type: 'string' },
  })
  const [action, kind, ...rest] = positionals
  if (global.help || !action) {
    out(AUTH_HELP)
    return global.help ? 0 : 2
  }
  const env = io.env ?? process.env
  const target = await tokenTarget(values.platform as string | undefined, env)
  const client = platformClient()
  const namespace = global.namespace
  try {
    const token = await accessTokenFor(target, env, client)
    if (action === 'token') {
      if (token === undefined)
        throw new MicroError('micro.cli', `not logged in to ${target.address}: run micro login`, 401)
      out(token)
      return 0
    }
    const call = <T>(endpoint: string, body: unknown) =>
      client.call<T>('platform', endpoint, body, {
        address: target.address,
        timeout: 15_000,
        metadata: token ? { authorization: `Bearer ${token}` } : {},
      })
    const print = (value: unknown, text: string) => out(global.json ? JSON.stringify(value, null, 2) : text)
    switch (`${action} ${kind ?? ''}`.trim()) {
      case 'create account': {
        const id = required(rest[0], 'the account id')
        const secret = values['secret-stdin']
          ? (await readStdin(io.stdin ?? process.stdin)).replace(/\r?\n$/, '')
          : undefined
        const scopes = values.scopes ? String(values.scopes).split(',').filter(Boolean) : undefined
        const created = await call<{ account: Account; secret?: string }>('Accounts.Create', {
          namespace,
          id,
          type: values.type,
          scopes,
          secret,
        })
        print(
          created,
          [
            `created ${created.account.type} account ${created.account.id} in namespace ${created.account.issuer}`,
            ...(created.secret ? [`secret (shown once): ${created.secret}`] : []),
          ].join('\n'),
        )
        return 0
      }
      case 'create rule': {
        const rule = {
          id: required(rest[0], 'the rule id'),
          resource: required(values.resource as string | undefined, '--resource'),
          scope: (values.scope as string | undefined) ?? '*',
          access: (values.access as string | undefined) ?? 'granted',
          priority: values.priority === undefined ? 0 : Number(values.priority),
        }
        const created = await call<{ rule: Rule }>('Rules.Create', { namespace, rule })
        print(created, `created rule ${created.rule.id} in namespace ${namespace}`)
        return 0
      }
      case 'list accounts': {
        const { accounts } = await call<{ accounts: Account[] }>('Accounts.List', { namespace })
        print(
          accounts,
          table(
            ['ID', 'Type', 'Scopes'],
            accounts.map((a) => [a.id, a.type, a.scopes.join(',')]),
          ),
        )
        return 0
      }
      case 'list rules': {
        const { rules } = await call<{ rules: Rule[] }>('Rules.List', { namespace })
        print(
          rules,
          table(
            ['ID', 'Scope', 'Access', 'Resource', 'Priority'],
            rules.map((r) => [
              r.id,
              r.scope === '' ? '<public>' : r.scope,
              r.access,
              `${r.resource.type}:${r.resource.name}:${r.resource.endpoint}`,
              String(r.priority),
            ]),
          ),
        )
        return 0
      }
      case 'delete account': {
        const id = required(rest[0], 'the account id')
        await call('Accounts.Delete', { namespace, id })
        out(`deleted account ${id} (its tokens are revoked)`)
        return 0
      }
      case 'delete rule': {
        const id = required(rest[0], 'the rule id')
        await call('Rules.Delete', { namespace, id })
        out(`deleted rule ${id}`)
        return 0
      }
      case 'rotate': {
        const { kid } = await call<{ kid: string }>('Auth.Rotate', {})
        out(`signing with key ${kid}; tokens signed with the old key stay valid until they expire`)
        return 0
      }
    }
    if (action === 'check') {
      const [account, service, endpoint] = [kind, ...rest]
      const decision = await call<Decision>('Auth.Check', {
        namespace,
        accountNamespace: values['account-namespace'] ?? namespace,
        account: required(account, 'the account'),
        service: required(service, 'the service'),
        endpoint: required(endpoint, 'the endpoint'),
      })
      print(decision, `${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}`)
      return decision.allowed ? 0 : 1
    }
    throw new UsageError(`unknown auth command ${[action, kind].filter(Boolean).join(' ')}`)
  } finally {
    await client.close()
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`${what} is required`)
  return value
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
