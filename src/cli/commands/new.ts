import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { SCAFFOLD_KINDS, type ScaffoldKind, scaffold } from '../../definition/templates.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'

/** `micro new --help` */
export const NEW_HELP = `Usage: micro new [options] <name>

Create a service folder <name>/ with a service.toml, a service.ts and a test that passes.

  micro new orders --kind http

Options:
  --kind <kind>             ${SCAFFOLD_KINDS.join(', ')} (default rpc)
  --dir <path>              where to create the folder (default: the current directory)
${GLOBAL_HELP}`

const NAME = /^[a-z][a-z0-9._-]*$/

/** `micro new <name>`: scaffold a service folder; refuses to write into a non-empty one. */
export async function newCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    kind: { type: 'string' },
    dir: { type: 'string' },
  })
  if (global.help) {
    out(NEW_HELP)
    return 0
  }
  const [name, ...extra] = positionals
  if (!name || extra.length > 0) throw new UsageError('new needs one service name, e.g. micro new orders')
  if (!NAME.test(name)) {
    throw new UsageError(
      `${name} is not a valid service name: use lower-case letters, digits, ".", "_" or "-", starting with a letter`,
    )
  }
  const kind = (values.kind as string | undefined) ?? 'rpc'
  if (!(SCAFFOLD_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(
      `--kind ${kind} is not a kind micro new knows: use one of ${SCAFFOLD_KINDS.join(', ')}`,
    )
  }
  const folder = resolve((values.dir as string | undefined) ?? '.', name)
  const existing = await readdir(folder).catch(() => [] as string[])
  if (existing.length > 0) throw new UsageError(`${folder} already exists and is not empty`)
  await mkdir(folder, { recursive: true })
  const files = scaffold(name, kind as ScaffoldKind)
  for (const [file, text] of Object.entries(files)) await writeFile(join(folder, file), text)
  const shown = relative(process.cwd(), folder) || '.'
  out(`created ${shown}/ (${kind}): ${Object.keys(files).join(', ')}

  micro run ${shown}                          # run it
  node --import tsx --test ${shown}/service.test.ts   # test it`)
  return 0
}
