// Runs every *.test.ts under src/ and test/ (or the files/folders given) with node:test
// through tsx. Node 20's --test does not expand globs, so the file list is built here.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path)) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue
      collect(join(path, entry), out)
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path)
  }
  return out
}

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'))
const files = (roots.length > 0 ? roots : ['src', 'test']).flatMap((root) => collect(root, [])).sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
// The CLI reads the user's environments file: tests get an empty one of their own, so a
// developer's `micro env set` never sends a test's commands to a real platform.
const configDir = mkdtempSync(join(tmpdir(), 'micro-test-config-'))
// Node 20 applies --test-timeout to each file as a whole too: files that start real
// servers and CLI processes (the docs' shell blocks, the CLI suites) run 3-4x slower when
// the whole suite shares two cores, so the bound is 4 minutes. Tests bound their own waits.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=4', '--test-timeout=240000', ...flags, ...files],
  { stdio: 'inherit', env: { ...process.env, MICRO_CONFIG_DIR: process.env.MICRO_CONFIG_DIR ?? configDir } },
)
rmSync(configDir, { recursive: true, force: true })
process.exit(result.status ?? 1)
