// Builds dist/: one ES module per public entry (the package's exports and bin), with the
// code they share split into chunks, plus .d.ts files from tsc. Bundling matters for
// start-up: loading ~75 small modules through the ESM loader costs more than the service
// takes to start. Dependencies stay external (they are loaded from node_modules).
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const outputs = [
  ...Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [] : [target.default])),
  ...Object.values(pkg.bin),
]
const entryPoints = outputs.map((out) => out.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))

rmSync('dist', { recursive: true, force: true })
const result = await build({
  entryPoints,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  metafile: process.env.BUILD_METAFILE !== undefined,
})
// BUILD_METAFILE=<file> writes esbuild's metafile (which sources went into which chunk), to
// see what an entry loads: see bench/README.md, "Start-up and memory".
if (process.env.BUILD_METAFILE) writeFileSync(process.env.BUILD_METAFILE, JSON.stringify(result.metafile))
execFileSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--emitDeclarationOnly'],
  {
    stdio: 'inherit',
  },
)
