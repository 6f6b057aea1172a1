import type { CallOptions } from '../../client/options.js'
import { UsageError } from '../args.js'
import { jsonLines, parseJsonArgument } from '../input.js'
import type { Session } from '../session.js'

/**
 * The messages `micro call` sends to a streaming endpoint: each element of a JSON array,
 * a single other JSON value, the JSON lines of standard input for `-` (sent as they
 * arrive), or one `{}` when nothing is given (as a unary call would send).
 */
export function streamInput(
  requestText: string | undefined,
  stdin: NodeJS.ReadableStream,
): AsyncIterable<unknown> | Iterable<unknown> {
  if (requestText === '-') return jsonLines(stdin, 'request')
  const value = parseJsonArgument(requestText ?? '{}', 'request')
  return Array.isArray(value) ? value : [value]
}

/**
 * Open a stream to `endpoint`, send `input` while printing each reply as one JSON line,
 * and resolve when the server ends the stream. Bad input cancels the stream and is
 * reported as the usage error it is; a failed stream rejects with the server's error.
 */
export async function callStream(
  session: Pick<Session, 'stream'>,
  service: string,
  endpoint: string,
  input: AsyncIterable<unknown> | Iterable<unknown>,
  options: CallOptions,
  out: (text: string) => void,
): Promise<void> {
  const stream = session.stream(service, endpoint, options)
  let inputError: UsageError | undefined
  // Not awaited: once the server ends the call, input still to come (a terminal) is moot.
  stream.sendAll(input).catch((error: unknown) => {
    // Send failures of the stream itself surface through the replies below.
    if (!(error instanceof UsageError)) return
    inputError = error
    stream.cancel(`micro call: ${error.message}`)
  })
  try {
    for await (const reply of stream) out(JSON.stringify(reply))
  } catch (error) {
    throw inputError ?? error
  }
  if (inputError) throw inputError
}
