import { type FSWatcher, watch } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, relative } from 'node:path'

/** Folders never watched: dependencies, VCS data, build output, and hidden folders. */
const IGNORED_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage', 'out'])
/** Files whose change means new code or configuration. */
const SOURCE_EXTENSIONS = new Set([
  '.ts',
  '.mts',
  '.cts',
  '.tsx',
  '.js',
  '.mjs',
  '.cjs',
  '.jsx',
  '.json',
  '.toml',
  '.yaml',
  '.yml',
])
/** Tests change without the service changing. */
const TEST_FILE = /\.(?:test|spec)\.[cm]?[jt]sx?$/
/** A folder with more subfolders than this is not walked further (a mistake: a home folder, a data folder). */
const MAX_DIRS = 5000

/** Whether a folder name is skipped when walking a tree. */
export function ignoredDir(name: string): boolean {
  return name.startsWith('.') || IGNORED_DIRS.has(name)
}

/** Whether a change to a file of this name can change a service: source or config, not a test. */
export function isSourceFile(name: string): boolean {
  return !name.startsWith('.') && !TEST_FILE.test(name) && SOURCE_EXTENSIONS.has(extname(name))
}

/**
 * Whether a file a service imports from outside its folder is worth watching: inside
 * `root` (the project's folder) and not under an ignored folder (node_modules, dist ...).
 */
export function watchable(file: string, root: string): boolean {
  const rel = relative(root, file)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return false
  return isSourceFile(basename(file)) && !rel.split(/[\\/]/).slice(0, -1).some(ignoredDir)
}

/** Options of a {@link SourceWatcher}. */
export interface SourceWatcherOptions {
  /** Quiet time after the last change before reporting, ms (editors write a file in steps). Default 100. */
  debounceMs?: number
  /** Report at the latest this long after the first change of a batch, ms. Default 1000. */
  maxWaitMs?: number
  /** The changed files (absolute), once per batch. */
  onChange(files: string[]): void
  /** A folder that could not be watched (too many, permissions). */
  onWarning?(message: string): void
}

/**
 * Watches source folders with one non-recursive `fs.watch` per folder, skipping
 * node_modules, .git, dist, build and hidden folders. (Node 20's recursive `fs.watch` on
 * Linux adds an inotify watch for every file below the root, node_modules included: ~9 000
 * for this repository, and it cannot skip any.) New folders are picked up as they appear.
 * Changes are batched: reported after `debounceMs` of quiet.
 */
export class SourceWatcher {
  readonly #options: SourceWatcherOptions
  readonly #watchers = new Map<string, FSWatcher>()
  /** Folders watched as trees (new subfolders are added) rather than for single files. */
  readonly #trees = new Set<string>()
  #pending = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #firstAt = 0
  #closed = false
  #warnedTooMany = false

  constructor(options: SourceWatcherOptions) {
    this.#options = options
  }

  /** Watch `dir` and every folder below it that is not ignored. */
  async addTree(dir: string): Promise<void> {
    this.#trees.add(dir)
    await this.#walk(dir)
  }

  async #walk(dir: string): Promise<void> {
    if (this.#closed) return
    const queue = [dir]
    while (queue.length > 0) {
      const current = queue.shift() as string
      if (!this.#watch(current)) return
      const entries = await readdir(current, { withFileTypes: true }).catch(() => [])
      for (const entry of entries) {
        if (entry.isDirectory() && !ignoredDir(entry.name)) queue.push(join(current, entry.name))
      }
    }
  }

  /** Watch the folder of `file` too (a file outside the trees that a service imports). */
  addFile(file: string): void {
    this.#watch(dirname(file))
  }

  /** Folders currently watched. */
  get size(): number {
    return this.#watchers.size
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    for (const watcher of this.#watchers.values()) watcher.close()
    this.#watchers.clear()
  }

  #watch(dir: string): boolean {
    if (this.#watchers.has(dir)) return true
    if (this.#watchers.size >= MAX_DIRS) {
      if (!this.#warnedTooMany) {
        this.#warnedTooMany = true
        this.#options.onWarning?.(`more than ${MAX_DIRS} folders to watch; ${dir} and others are not watched`)
      }
      return false
    }
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name) this.#changed(dir, name.toString())
      })
      watcher.on('error', () => this.#forget(dir))
      this.#watchers.set(dir, watcher)
      return true
    } catch {
      return true // gone already, or unreadable: nothing to watch there
    }
  }

  #forget(dir: string): void {
    this.#watchers.get(dir)?.close()
    this.#watchers.delete(dir)
  }

  #changed(dir: string, name: string): void {
    if (this.#closed) return
    const path = join(dir, name)
    if (this.#inTree(dir) && !ignoredDir(name)) {
      // A folder created (or replaced) under a tree: watch it and what is already in it.
      void stat(path).then(
        (s) => {
          if (!s.isDirectory()) return
          this.#forget(path)
          void this.#walk(path)
        },
        () => this.#forget(path),
      )
    }
    if (!isSourceFile(name)) return
    if (this.#pending.size === 0) this.#firstAt = Date.now()
    this.#pending.add(path)
    clearTimeout(this.#timer)
    const { debounceMs = 100, maxWaitMs = 1000 } = this.#options
    const wait = Math.min(debounceMs, Math.max(0, this.#firstAt + maxWaitMs - Date.now()))
    this.#timer = setTimeout(() => this.#flush(), wait)
  }

  #inTree(dir: string): boolean {
    for (const tree of this.#trees) {
      if (dir === tree || dir.startsWith(`${tree}/`) || dir.startsWith(`${tree}\\`)) return true
    }
    return false
  }

  #flush(): void {
    const files = [...this.#pending]
    this.#pending = new Set()
    if (files.length > 0 && !this.#closed) this.#options.onChange(files)
  }
}
