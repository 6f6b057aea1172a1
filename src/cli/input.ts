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

/** Everything on standard input, as UTF-8 (for arguments given as `-`). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
