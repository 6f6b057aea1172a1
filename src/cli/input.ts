import { UsageError } from './args.js'

/** Parse a JSON argument; a usage error names `what` it is and shows its start. */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text
    throw new UsageError(`the ${what} is not valid JSON (${(error as Error).message}): ${shown}`)
  }
}

/** `--metadata key=value` pairs as a map; a usage error for a pair without `=`. */
export function parseMetadata(pairs: readonly string[]): Record<string, string> {
  const metadata: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--metadata wants key=value, got ${pair}`)
    metadata[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return metadata
}

/** Everything on standard input (or `input`), as UTF-8 (for arguments given as `-`). */
export async function readStdin(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The JSON values of a JSON Lines input, one per non-blank line, as the lines arrive (so a
 * stream can send while its input is still being typed). A line that is not JSON is a
 * usage error naming its number.
 */
export async function* jsonLines(input: NodeJS.ReadableStream, what: string): AsyncGenerator<unknown> {
  const { createInterface } = await import('node:readline')
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  let number = 0
  try {
    for await (const line of lines) {
      number++
      if (line.trim() === '') continue
      yield parseJsonArgument(line, `${what} on line ${number}`)
    }
  } finally {
    lines.close()
  }
}
