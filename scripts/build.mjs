// Builds dist/: one ES module per public entry (the package's exports and bin), with the
// code they share in chunks, plus .d.ts files from tsc. Start-up decides the shape (see
// docs/design.md, "Start-up and memory"):
//
// - Bundled: loading ~75 small modules through the ESM loader cost more than the service
//   takes to start.
// - One core chunk: everything the main entry loads statically is one file, and every other
//   entry (public, bin, and each module a dynamic import() loads) imports the main entry
//   first. Without that, esbuild splits shared code by the set of entries reaching it, and
//   `import 'micro-ts'` loaded ~40 chunks: each costs the loader's path and URL work, and
//   past ~25 modules that work alone got Node's path functions optimised by TurboFan at
//   start, ~4 MB of RSS for the compiler. Cost: `micro-ts/errors` alone loads the core.
// - Dependencies stay external (loaded from node_modules), except dns-packet: CommonJS,
//   needed by every service (mDNS), and loading it through the CommonJS loader walked
//   node_modules for each of its 8 files. Its require() of node builtins gets an ESM shim.
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { resolve } from 'node:path'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const outputs = [
  ...Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [] : [target.default])),
  ...Object.values(pkg.bin),
]
const entryPoints = outputs.map((out) => out.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))
const MAIN = 'src/index.ts'
// Dependencies bundled into dist rather than loaded from node_modules (dns-packet's own too).
const BUNDLED = /^(dns-packet|@leichtgewicht\/ip-codec)(\/.*)?$/

/** Bundle the BUNDLED packages: `packages: 'external'` leaves every other one out. */
const bundleSome = {
  name: 'bundle-some-packages',
  setup(b) {
    b.onResolve({ filter: BUNDLED }, (args) => ({ path: createRequire(args.importer).resolve(args.path) }))
  },
}

/** `require('buffer')` in bundled CommonJS becomes an import of `node:buffer` (ESM output has no require). */
const builtinsForBundledCommonJs = {
  name: 'builtins-for-bundled-commonjs',
  setup(b) {
    const builtins = new Set(builtinModules)
    b.onResolve({ filter: /^[a-z_/]+$/ }, (args) =>
      args.kind === 'require-call' && builtins.has(args.path) && args.importer.includes('node_modules')
        ? { path: args.path, namespace: 'builtin-shim' }
        : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'builtin-shim' }, (args) => ({
      contents: `export * from 'node:${args.path}'`,
      loader: 'js',
    }))
  },
}

const options = {
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
}

// Pass 1 (not written): the modules the main entry loads statically, and the dynamic imports.
const { metafile: graph } = await build({
  ...options,
  plugins: [bundleSome, builtinsForBundledCommonJs],
  write: false,
  metafile: true,
})
const fromMain = new Set()
const reach = (file) => {
  if (fromMain.has(file)) return
  fromMain.add(file)
  for (const i of graph.inputs[file]?.imports ?? [])
    if (i.kind === 'import-statement' && !i.external) reach(i.path)
}
reach(MAIN)
const dynamic = Object.values(graph.inputs).flatMap((input) =>
  input.imports.filter((i) => i.kind === 'dynamic-import' && !i.external).map((i) => i.path),
)
// Every entry but the main one imports it first; a dynamic import's module only when the main
// entry does not already load it (that one is in the core, and the import would be a cycle).
const anchored = new Set(
  [...entryPoints.filter((entry) => entry !== MAIN), ...dynamic.filter((file) => !fromMain.has(file))].map(
    (file) => resolve(file),
  ),
)
const anchor = {
  name: 'anchor-to-main',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!anchored.has(args.path)) return undefined
      const text = readFileSync(args.path, 'utf8')
      const at = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0
      return {
        contents: `${text.slice(0, at)}import ${JSON.stringify(resolve(MAIN))}\n${text.slice(at)}`,
        loader: 'ts',
      }
    })
  },
}

rmSync('dist', { recursive: true, force: true })
const result = await build({
  ...options,
  plugins: [bundleSome, builtinsForBundledCommonJs, anchor],
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

// --- The dashboard's UI (src/dashboard/ui): a browser bundle in dist/dashboard, built here so
// it ships in the package (see scripts/build-dashboard.mjs). Kept as one separate step.
const { buildDashboard } = await import('./build-dashboard.mjs')
await buildDashboard()
