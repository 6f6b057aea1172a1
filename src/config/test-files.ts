import { writeFileSync } from 'node:fs'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** A temporary directory for one test, removed by `cleanup`. */
export async function tempDir(): Promise<{
  dir: string
  path(name: string): string
  cleanup(): Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'micro-config-'))
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/**
 * Save a file in place (truncate, then write), as an editor without atomic saves does.
 * Synchronously on purpose: an asynchronous write can pause between the truncation and
 * the write for longer than a short debounce on a loaded machine, and the watcher would
 * read the empty file in between, a state no test means to save.
 */
export function writeInPlace(path: string, text: string): void {
  writeFileSync(path, text)
}

/** Replace a file the way many editors save: write a sibling, then rename it over the original. */
export async function replaceByRename(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  await writeFile(temp, text)
  await rename(temp, path)
}

/** Wait until `check` is true, polling every 10 ms; fails after `ms` (head-room for a loaded machine) naming `what`. */
export async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(10)
  }
}
