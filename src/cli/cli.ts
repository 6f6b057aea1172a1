import { storeKV } from '../config/store-kv.js'
import { MicroError } from '../errors/errors.js'
import { storeFromEnv } from '../store/from-env.js'
import { GLOBAL_HELP, UsageError } from './args.js'
import { apiCommand } from './commands/api.js'
import { authCommand } from './commands/auth.js'
import { callCommand } from './commands/call.js'
import { configCommand } from './commands/config.js'
import { describeCommand } from './commands/describe.js'
import { envCommand } from './commands/env.js'
import { genCommand } from './commands/gen.js'
import { killCommand } from './commands/kill.js'
import { loginCommand } from './commands/login.js'
import { logoutCommand } from './commands/logout.js'
import { logsCommand } from './commands/logs.js'
import { newCommand } from './commands/new.js'
import { publishCommand } from './commands/publish.js'
import { runCommand } from './commands/run.js'
import { servicesCommand } from './commands/services.js'
import { sidecarCommand } from './commands/sidecar.js'
import { statusCommand } from './commands/status.js'
import { storeCommand } from './commands/store.js'
import { streamCommand } from './commands/stream.js'
import { subscribeCommand } from './commands/subscribe.js'
import { updateCommand } from './commands/update.js'
import { userCommand } from './commands/user.js'
import { webCommand } from './commands/web.js'
import { dynamicCommand } from './dynamic/command.js'
import { PlatformClient } from './platform/platform-client.js'
import { platformStore } from './platform/store.js'

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
  api                                run the API gateway alone (HTTP on 127.0.0.1:8080)
  gen proto [folder]                 TypeScript from .proto files (types, handler, client)
  login [--token t | --id a]         log in to the platform (tokens kept per environment)
  logout                             revoke this login and forget its tokens
  auth token|create|list|delete|check
                                     tokens, accounts and rules of the platform
  env add|set|unset|get|list|del     environments: the platforms commands work through
  user [set <namespace>]             show or choose the namespace commands work in
  web [--address host:port]          serve the dashboard alone (default 127.0.0.1:8082)
  sidecar --name n --app-port p      serve an app in any language as a service (Dapr-style HTTP API)

Dynamic commands: any other name is a service, its words an endpoint, its flags the
request, typed from the endpoint's schema:
  micro greeter hello --name=Alice   calls Greeter.Hello with {"name":"Alice"}
  micro greeter --help               lists greeter's endpoints with their fields
An executable micro-<name> on PATH runs instead of a service of that name.

On the platform's runtime (micro server; --platform or MICRO_PLATFORM picks another):
  run -d <folder> [--instances N] [--env K=V]
                                     hand a service to the runtime (process per instance)
  status [name]                      the runtime's services: status, instances, restarts, uptime
  logs <name> [-f] [--since 10m] [-n 50]
                                     a service's output, then new lines with -f
  update <folder|name>               roll it onto its source, one instance at a time
  kill <name>                        stop every instance and forget the service

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
  config: (argv, out) =>
    configCommand(argv, out, {
      // The platform's store when one is in use (micro env), else this machine's.
      openKV: (global) =>
        storeKV(global.platform ? platformStore(PlatformClient.connect(global.platform)) : storeFromEnv()),
    }),
  run: (argv, out) => runCommand(argv, out),
  new: (argv, out) => newCommand(argv, out),
  env: envCommand,
  user: userCommand,
  status: statusCommand,
  logs: logsCommand,
  update: updateCommand,
  kill: killCommand,
  api: (argv, out) => apiCommand(argv, out),
  login: (argv, out) => loginCommand(argv, out),
  logout: (argv, out) => logoutCommand(argv, out),
  auth: (argv, out) => authCommand(argv, out),
  gen: (argv, out) => genCommand(argv, out),
  web: (argv, out) => webCommand(argv, out),
  sidecar: (argv, out) => sidecarCommand(argv, out),
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
  if (name.startsWith('-')) {
    err(`micro: unknown option ${name}; options go after the command (micro --help)`)
    return 2
  }
  // Any other name is a service: `micro greeter hello --name=Alice` (see src/cli/dynamic).
  const command = Object.hasOwn(commands, name)
    ? (commands[name] as Command)
    : (argv: string[], out: (text: string) => void) => dynamicCommand(name, argv, out)
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
