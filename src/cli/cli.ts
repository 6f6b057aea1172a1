import { storeKV } from '../config/store-kv.js'
import { MicroError } from '../errors/errors.js'
import { storeFromEnv } from '../store/from-env.js'
import { GLOBAL_HELP, UsageError } from './args.js'
import { callCommand } from './commands/call.js'
import { configCommand } from './commands/config.js'
import { describeCommand } from './commands/describe.js'
import { genCommand } from './commands/gen.js'
import { newCommand } from './commands/new.js'
import { publishCommand } from './commands/publish.js'
import { runCommand } from './commands/run.js'
import { servicesCommand } from './commands/services.js'
import { storeCommand } from './commands/store.js'
import { streamCommand } from './commands/stream.js'
import { subscribeCommand } from './commands/subscribe.js'

const HELP = `Usage: micro <command> [options]

Commands:
  call <service> <endpoint> [json]   call an endpoint and print the reply
  services                           list services, versions, nodes and endpoints
  describe <service>                 show a service's endpoints with their schemas
  publish <topic> [json]             publish a message on the broker
  subscribe <topic>                  print messages on a topic as they arrive
  stream publish|consume|read        durable event streams
  store read|write|delete|list|databases|tables
                                     read and change records in the store
  config get|set|del <path> [value]  the store-backed config of a namespace
  run <folder>                       run a service folder (service.toml + definition)
  new <name> [--kind k]              scaffold a service (rpc, http, worker, script)
  gen proto [folder]                 TypeScript from .proto files (types, handler, client)

Run 'micro <command> --help' for a command's options.
${GLOBAL_HELP}`

type Command = (argv: string[], out: (text: string) => void) => Promise<number>

const commands: Record<string, Command> = {
  call: callCommand,
  services: servicesCommand,
  describe: describeCommand,
  publish: publishCommand,
  subscribe: (argv, out) => subscribeCommand(argv, out),
  stream: (argv, out) => streamCommand(argv, out),
  store: storeCommand,
  config: (argv, out) => configCommand(argv, out, { openKV: () => storeKV(storeFromEnv()) }),
  run: (argv, out) => runCommand(argv, out),
  new: (argv, out) => newCommand(argv, out),
  gen: (argv, out) => genCommand(argv, out),
}

/** Run the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(
  argv: string[],
  out = (t: string) => console.log(t),
  err = (t: string) => console.error(t),
): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(HELP)
    return name ? 0 : 2
  }
  const command = commands[name]
  if (!command) {
    err(`micro: unknown command ${name}; commands: ${Object.keys(commands).join(', ')}`)
    return 2
  }
  try {
    return await command(rest, out)
  } catch (error) {
    if (error instanceof UsageError) {
      err(`micro ${name}: ${error.message}\nRun 'micro ${name} --help' for usage.`)
      return 2
    }
    const e = MicroError.from(error, 'micro.cli')
    err(`micro ${name}: ${e.detail}`)
    err(JSON.stringify(e))
    return 1
  }
}
