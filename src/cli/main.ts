#!/usr/bin/env node
const argv = process.argv.slice(2)
// `micro sidecar` loads its own command alone, not every command's modules: its idle
// memory is a target (src/sidecar/README.md).
const run =
  argv[0] === 'sidecar'
    ? (await import('./commands/sidecar-main.js')).sidecarMain
    : (await import('./cli.js')).main
run(argv).then((code) => process.exit(code))
