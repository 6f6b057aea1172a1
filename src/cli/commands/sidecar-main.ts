import { MicroError } from '../../errors/errors.js'
import { UsageError } from '../args.js'
import { sidecarCommand } from './sidecar.js'

/**
 * `micro sidecar ...` straight from the bin, without the rest of the CLI (main.ts): the
 * same usage and error reporting as `main` gives every other command.
 */
export async function sidecarMain(argv: string[]): Promise<number> {
  try {
    return await sidecarCommand(argv.slice(1))
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`micro sidecar: ${error.message}\nRun 'micro sidecar --help' for usage.`)
      return 2
    }
    const e = MicroError.from(error, 'micro.cli')
    console.error(`micro sidecar: ${e.detail}`)
    console.error(JSON.stringify(e))
    return 1
  }
}
