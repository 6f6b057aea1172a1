import { type FSWatcher, watch as fsWatch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { internalServerError, notFound } from '../errors/errors.js'
import { type FileFormat, formatOf, parseConfigText } from './file-format.js'
import type { Source, Unwatch } from './source.js'

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** A missing file is an empty config instead of an error. Default false. */
  optional?: boolean
  /** Override the format the extension implies. */
  format?: FileFormat
  /** Quiet time after the last change event before the file is re-read, in ms. Default 100. */
  debounce?: number
}

const ID = 'micro.config'

/**
 * Config from a JSON, YAML or TOML file (by extension). The file's directory is watched, so
 * a file replaced by rename (as editors and `kubectl` ConfigMaps do) is seen as well as one
 * written in place; events are debounced so a save that takes several writes is read once.
 * A file that fails to parse leaves the previous values in force (see loadConfig).
 */
export function fileSource(path: string, options: FileSourceOptions = {}): Source {
  const absolute = resolve(path)
  const format = options.format ?? formatOf(path)
  const debounce = options.debounce ?? 100
  return {
    name: `file:${absolute}`,
    async read() {
      let text: string
      try {
        text = await readFile(absolute, 'utf8')
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT' && options.optional) return {}
        if (code === 'ENOENT')
          throw notFound(
            ID,
            `config file ${absolute} not found (pass { optional: true } to start without it)`,
          )
        throw internalServerError(
          ID,
          `config file ${absolute} cannot be read: ${code ?? (error as Error).message}`,
        )
      }
      return parseConfigText(text, format, absolute)
    },
    watch(onChange, onError): Unwatch {
      const name = basename(absolute)
      let timer: NodeJS.Timeout | undefined
      let watcher: FSWatcher | undefined
      const fire = () => {
        timer = undefined
        onChange()
      }
      try {
        // persistent: false, so a config watch never keeps the process alive
        watcher = fsWatch(dirname(absolute), { persistent: false }, (_event, changed) => {
          // Kubernetes swaps a `..data` symlink rather than the file; any other name is unrelated.
          const related = changed === null || changed === name || String(changed).startsWith('..')
          if (!related) return
          if (timer) clearTimeout(timer)
          timer = setTimeout(fire, debounce)
          timer.unref()
        })
        watcher.on('error', onError)
      } catch (error) {
        onError(error)
      }
      return () => {
        if (timer) clearTimeout(timer)
        timer = undefined
        watcher?.close()
      }
    },
  }
}
