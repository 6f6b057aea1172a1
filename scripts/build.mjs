// Builds dist/: one ES module per public entry (the package's exports and bin), with the
// code they share split into chunks, plus .d.ts files from tsc. Bundling matters for
// start-up: loading ~75 small modules through the ESM loader costs more than the service
// takes to start. Dependencies stay external (they are loaded from node_modules).
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const outputs = [
  ...Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [] : [target.default])),
  ...Object.values(pkg.bin),
]
const entryPoints = outputs.map((out) => out.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))

rmSync('dist', { recursive: true, force: true })
await build({
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
})
execFileSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--emitDeclarationOnly'],
  {
    stdio: 'inherit',
  },
)

// --- The dashboard's UI (src/dashboard/ui): a browser bundle in dist/dashboard, built here so
// it ships in the package (see scripts/build-dashboard.mjs). Kept as one separate step.
const { buildDashboard } = await import('./build-dashboard.mjs')
await buildDashboard()
