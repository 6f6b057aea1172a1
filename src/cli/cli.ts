import { MicroError } from '../errors/errors.js'
import { GLOBAL_HELP, UsageError } from './args.js'
import { callCommand } from './commands/call.js'
import { describeCommand } from './commands/describe.js'
import { servicesCommand } from './commands/services.js'

const HELP = `Usage: micro <command> [options]

Commands:
  call <service> <endpoint> [json]   call an endpoint and print the reply
  services                           list services, versions, nodes and endpoints
  describe <service>                 show a service's endpoints with their schemas

Run 'micro <command> --help' for a command's options.
${GLOBAL_HELP}`

type Command = (argv: string[], out: (text: string) => void) => Promise<number>

const commands: Record<string, Command> = {
  call: callCommand,
  services: servicesCommand,
  describe: describeCommand,
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
