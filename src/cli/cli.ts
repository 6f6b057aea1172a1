import { storeKV } from '../config/store-kv.js'
import { MicroError } from '../errors/errors.js'
import { storeFromEnv } from '../store/from-env.js'
import { GLOBAL_HELP, UsageError } from './args.js'
import { apiCommand } from './commands/api.js'
import { authCommand } from './commands/auth.js'
import { botCommand } from './commands/bot.js'
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
import { serverCommand } from './commands/server.js'
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
import { platformStore } from './platform/blocks.js'

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
  run [folders...]                   the dev loop: run services (or micro.toml's) in dependency
                                     order, gateway on 127.0.0.1:8080, hot reload with a safe swap
  run --inline <folder>              run one service folder in this process (no dev loop)
  new <name> [--kind k]              scaffold a service (rpc, http, worker, script)
  server [--address h:p] [--auth]    the platform: dashboard + gateway on 127.0.0.1:8080,
                                     the building blocks and runtime on 127.0.0.1:8081
  api                                run the API gateway alone (HTTP on 127.0.0.1:8080)
  gen proto [folder]                 TypeScript from .proto files (types, handler, client)
  gen client [--lang ts|openapi]     a typed TypeScript client or the OpenAPI document
  login [--token t | --id a]         log in to the platform (tokens kept per environment)
  logout                             revoke this login and forget its tokens
  auth token|create|list|delete|check
                                     tokens, accounts and rules of the platform
  env add|set|unset|get|list|del     environments: the platforms commands work through
  user [set <namespace>]             show or choose the namespace commands work in
  web [--address host:port]          serve the dashboard alone (default 127.0.0.1:8082)
  mcp serve|tools [--dev]            MCP for AI agents over stdio: every endpoint is a tool
  bot [--adapter console|xmpp|slack] the ops bot: these commands in chat, as bound accounts
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

/** A command: its arguments after its name, and where its output goes; resolves with the exit code. */
export type Command = (argv: string[], out: (text: string) => void) => Promise<number>

/** The command table; the bot (src/bot) offers a safe subset of it in chat. */
export const commands: Record<string, Command> = {
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
      openKV: (global) => storeKV(global.platform ? platformStore(global.platform) : storeFromEnv()),
    }),
  run: (argv, out) => runCommand(argv, out),
  new: (argv, out) => newCommand(argv, out),
  gen: (argv, out) => genCommand(argv, out),
  env: envCommand,
  user: userCommand,
  status: statusCommand,
  logs: logsCommand,
  update: updateCommand,
  kill: killCommand,
  api: (argv, out) => apiCommand(argv, out),
  server: (argv, out) => serverCommand(argv, out),
  login: (argv, out) => loginCommand(argv, out),
  logout: (argv, out) => logoutCommand(argv, out),
  auth: (argv, out) => authCommand(argv, out),
  web: (argv, out) => webCommand(argv, out),
  // Loaded on use: the MCP SDK is not read on every CLI start.
  mcp: async (argv, out) => (await import('./commands/mcp.js')).mcpCommand(argv, out),
  bot: (argv, out) => botCommand(argv, out),
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
