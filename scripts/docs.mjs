// `npm run docs`: the API reference (TypeDoc over the package's public entries, as Markdown
// into docs/api/) and then the site (VitePress, into build/docs/). Needs no network: every
// tool and theme asset comes from node_modules (the docs workspace, see docs/README.md).
// `node scripts/docs.mjs api` writes the API reference only (the tests' export check);
// `node scripts/docs.mjs dev` serves the site with hot reload on 127.0.0.1.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const docs = fileURLToPath(new URL('../docs/', import.meta.url))

/** A tool's bin, from the docs workspace (TypeDoc needs its TypeScript 6) or the root. */
function bin(name) {
  for (const dir of [`${docs}node_modules/.bin/`, `${root}node_modules/.bin/`])
    if (existsSync(dir + name)) return dir + name
  throw new Error(`${name} is not installed: run npm ci at the repository root`)
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const mode = process.argv[2] ?? 'build'
run(bin('typedoc'), ['--options', 'typedoc.config.mjs'], docs)
if (mode === 'build') run(bin('vitepress'), ['build', '.'], docs)
else if (mode === 'dev') run(bin('vitepress'), ['dev', '.', '--host', '127.0.0.1'], docs)
else if (mode !== 'api') throw new Error(`unknown mode ${mode}: build, api or dev`)
