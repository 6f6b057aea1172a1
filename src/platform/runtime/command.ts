import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { badRequest } from '../../errors/errors.js'
import type { Command } from './instance.js'
import { isTypeScript, type ResolvedSource } from './source.js'

/** What a command is built from besides the source. */
export interface CommandContext {
  namespace: string
  /** The runtime's environment, which instances inherit (MICRO_REGISTRY and friends). */
  baseEnv: NodeJS.ProcessEnv
  /** The spec's variables, over the base. */
  env: Record<string, string>
  /** The service's identity (MICRO_AUTH_ID, MICRO_AUTH_SECRET ...), over the spec's; never stored with the spec. */
  identity?: Record<string, string>
  /** How to run the `micro` CLI with node: its script (and any node flags before it). */
  microCli: string[]
}

/**
 * The process for a source: `node <micro> run --inline <folder>` for a service.toml (the CLI
 * checks it, runs every kind and prints the running line the runtime takes as ready),
 * `node <module>` for a JavaScript entry, `node --import tsx <module>` for TypeScript.
 */
export function commandFor(source: ResolvedSource, context: CommandContext): Command {
  const env: NodeJS.ProcessEnv = {
    ...context.baseEnv,
    ...context.env,
    ...context.identity,
    MICRO_NAMESPACE: context.namespace,
  }
  if (source.kind === 'definition') {
    return {
      file: process.execPath,
      // --inline: this process runs the service itself (plain `micro run` is the dev loop).
      args: [...context.microCli, 'run', '--inline', source.path],
      cwd: source.cwd,
      env,
      readiness: source.scriptOnly ? 'alive' : 'signal',
      version: source.version,
    }
  }
  const loader = isTypeScript(source.file) ? ['--import', tsxLoader(source.file)] : []
  return {
    file: process.execPath,
    args: [...loader, source.file],
    cwd: source.cwd,
    env,
    readiness: 'alive',
    version: source.version,
  }
}

/** The `micro` CLI of this package: `<package>/dist/cli/main.js`. */
export function defaultMicroCli(): string[] {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (true) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && isThisPackage(manifest)) return [join(dir, 'dist', 'cli', 'main.js')]
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the micro-ts package to run its CLI')
    dir = parent
  }
}

function isThisPackage(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'micro-ts'
  } catch {
    return false
  }
}

/** tsx's ESM loader as a file URL, from this package's dependencies or the service's. */
function tsxLoader(file: string): string {
  for (const from of [import.meta.url, pathToFileURL(file).href]) {
    try {
      return pathToFileURL(createRequire(from).resolve('tsx')).href
    } catch {
      // Try the next place.
    }
  }
  throw badRequest('micro.runtime', `${file} is TypeScript and needs tsx to run: npm install tsx`)
}
