// Builds the dashboard's UI into dist/dashboard: one bundled, minified ES module (Preact
// and the app), one stylesheet, an index.html that loads them, and gzip and brotli copies
// of each so the server never compresses at run time. Everything the page needs is in the
// package: no CDN, works offline.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const OUT = 'dist/dashboard'

/** Build the UI; resolves with the files written (relative to dist/dashboard). */
export async function buildDashboard() {
  rmSync(OUT, { recursive: true, force: true })
  const result = await build({
    entryPoints: { app: 'src/dashboard/ui/main.tsx', style: 'src/dashboard/ui/styles.css' },
    outdir: join(OUT, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) =>
    relative(OUT, file).split('\\').join('/'),
  )
  const script = outputs.find((f) => f.endsWith('.js'))
  const style = outputs.find((f) => f.endsWith('.css'))
  writeFileSync(
    join(OUT, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>micro dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/${style}">
<script type="module" src="/dashboard/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The micro dashboard needs JavaScript.</noscript>
</body>
</html>
`,
  )
  const files = []
  for (const name of readdirSync(OUT, { recursive: true })) {
    const path = join(OUT, name)
    if (statSync(path).isDirectory()) continue
    const data = readFileSync(path)
    writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }))
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    )
    files.push(name)
  }
  return files
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(OUT, { recursive: true })
  console.log((await buildDashboard()).join('\n'))
}
