import type { Command } from '../cli/cli.js'
import { callCommand } from '../cli/commands/call.js'
import { serviceCommand } from '../cli/dynamic/command.js'
import { commandWords } from '../cli/dynamic/words.js'
import type { OutputStyle } from './output.js'
import { type ChatPolicy, checkArguments, NotOffered, refusal } from './policy.js'
import { emptyInput } from './run.js'
import { pickCommand, type ServiceCommand } from './service-commands.js'
import { CommandInputError } from './words.js'

/** What a chat command runs: one of the CLI's commands with the argv the bot completed. */
export interface Target {
  /** `services`, `deploy` (a service's command), `greeter` (a dynamic command). */
  name: string
  kind: 'cli' | 'service-command' | 'dynamic'
  command: Command
  argv: string[]
  style: Omit<OutputStyle, 'width'>
  /** Output kept from the command, when more than the reply holds is needed to draw it. */
  captureChars?: number
}

export interface DispatchContext {
  /** The CLI's command table. */
  table: Readonly<Record<string, Command>>
  policy: ChatPolicy
  /** The platform every command goes through (`--platform`); undefined: this machine. */
  platform: string | undefined
  /** The namespace of the account the command runs as (unless the command names one). */
  namespace: string
  /** The commands services register, as the caller may see them. */
  discover(): Promise<ReadonlyMap<string, readonly ServiceCommand[]>>
}

/**
 * The command `words` name, checked against the policy, with the bot's own options added:
 * the CLI's table first (a command it does not offer is refused, never taken for a
 * service), then the commands services register, then any other name as a service (the
 * CLI's dynamic command, without its `micro-<name>` executables: nothing on the bot's
 * PATH ever runs). Throws {@link NotOffered} or {@link CommandInputError}.
 */
export async function dispatch(words: readonly string[], context: DispatchContext): Promise<Target> {
  const [name, ...args] = words as [string, ...string[]]
  if (name.startsWith('-'))
    throw new CommandInputError(`start with a command, not an option (${name}); try: help`)
  const { table, policy } = context
  if (Object.hasOwn(table, name)) {
    const refused = refusal(policy, name, args)
    if (refused) throw new NotOffered(refused)
    checkArguments(name, args)
    const own = name === 'call' ? chatCall : (table[name] as Command)
    const extra: string[] = []
    // A bare `logs` would print the whole log: chat gets the last lines.
    if (name === 'logs' && !args.some((a) => /^(-n|--lines|--since)/.test(a))) extra.push('-n', '20')
    // services draws its own table from the JSON (unless JSON was asked for).
    const servicesTable = name === 'services' && !args.includes('--json') && !isHelp(args)
    if (servicesTable) extra.push('--json')
    return {
      name,
      kind: 'cli',
      command: own,
      argv: withBotOptions(args, [...extra, ...locationOptions(args, context)]),
      // Tables and log lines are cut to the width; JSON (--json) never is.
      style: {
        name,
        servicesTable,
        trim: servicesTable || ((name === 'status' || name === 'logs') && !args.includes('--json')),
      },
      // The table is drawn from all of the JSON (schemas included), however long it is.
      ...(servicesTable ? { captureChars: 4_000_000 } : {}),
    }
  }
  if (policy.serviceCommands) {
    const picked = pickCommand(await context.discover(), name)
    if (typeof picked === 'string') throw new CommandInputError(picked)
    if (picked !== undefined) {
      checkArguments(name, args)
      const words = commandWords(picked.service, picked.endpoint)
      return {
        name,
        kind: 'service-command',
        command: (argv, out) => serviceCommand(picked.service, argv, out, { stdin: emptyInput() }),
        argv: withBotOptions([...words, ...args], locationOptions(args, context)),
        style: { name },
      }
    }
  }
  if (!policy.dynamic)
    throw new NotOffered(`${name} is not offered in chat (offered: ${policy.allow.join(', ')})`)
  checkArguments(name, args)
  return {
    name,
    kind: 'dynamic',
    command: (argv, out) => serviceCommand(name, argv, out, { stdin: emptyInput() }),
    argv: withBotOptions(args, locationOptions(args, context)),
    style: { name },
  }
}

/** `micro call` reading no standard input (`-` is refused before; this keeps the bot's own stdin out of reach). */
const chatCall: Command = (argv, out) => callCommand(argv, out, { stdin: emptyInput() })

function isHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h')
}

/** `--platform` always (when there is one); `--namespace` unless the command names one. */
function locationOptions(args: readonly string[], context: DispatchContext): string[] {
  const options: string[] = []
  if (context.platform !== undefined) options.push('--platform', context.platform)
  if (!args.some((a) => a === '--namespace' || a.startsWith('--namespace=')))
    options.push('--namespace', context.namespace)
  return options
}

/**
 * `args` after the bot's `options`: in front they are always read as options (never as
 * the value of an option the message left without one, never after a `--`).
 */
export function withBotOptions(args: readonly string[], options: readonly string[]): string[] {
  return [...options, ...args]
}
