import { readFile } from 'node:fs/promises'
import { lazyRequire } from '../util/lazy-require.js'
import { DefinitionError } from './problems.js'
import type { Table } from './table.js'

const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/**
 * Parse the text of a `service.toml`. A syntax error is a DefinitionError naming the
 * line and column.
 */
export function parseToml(text: string, source = 'service.toml'): Table {
  try {
    return toml().parse(text) as Table
  } catch (error) {
    if (error instanceof toml().TomlError) {
      const reason = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML'
      throw new DefinitionError(source, [
        {
          key: `line ${error.line}, column ${error.column}`,
          message: `invalid TOML: ${reason}`,
          fix: 'see https://toml.io for the syntax',
        },
      ])
    }
    throw error
  }
}

/** Read and parse a `service.toml` file. A missing file is a DefinitionError saying where it looked. */
export async function readToml(path: string): Promise<Table> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DefinitionError(path, [
        { key: 'file', message: 'not found', fix: 'create a service.toml (micro new <name> scaffolds one)' },
      ])
    }
    throw error
  }
  return parseToml(text, path)
}
