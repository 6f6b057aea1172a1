import { GLOBAL_HELP, UsageError } from '../args.js'
import { GEN_CLIENT_HELP, genClientCommand } from './gen-client.js'
import { GEN_PROTO_HELP, genProtoCommand } from './gen-proto.js'

/** `micro gen --help` */
export const GEN_HELP = `Usage: micro gen <target> [options]

Generate code:

  proto     TypeScript from .proto files: types, handler and client (micro gen proto --help)
  client    a typed TypeScript client of the services, or their OpenAPI document
            (micro gen client --help)

${GLOBAL_HELP}`

/** `micro gen <target>`: dispatch on the target word. */
export async function genCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  const [target, ...rest] = argv
  if (target === undefined || target === '--help' || target === '-h') {
    out(GEN_HELP)
    return target === undefined ? 2 : 0
  }
  if (target === 'client') return genClientCommand(rest, out)
  if (target === 'proto') return genProtoCommand(argv, out)
  throw new UsageError(`gen has no target ${target}: micro gen client | micro gen proto`)
}

export { GEN_CLIENT_HELP, GEN_PROTO_HELP }
