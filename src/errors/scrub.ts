/**
 * Absolute file paths: POSIX ones of two or more segments (`/home/me/app/config.json`), the
 * same behind `file://`, and Windows drive paths (`C:\Users\me\x.txt`). A `/` right after a
 * word character, a dot or another slash is not a path start, so `a/b`, `1/2` and the path
 * of an `http://host/...` URL are left alone.
 */
const ABSOLUTE_PATH =
  /(?:\bfile:\/\/|(?<![\w.~:/\\-]))\/(?:[^\s'"`/\\:;,()<>[\]{}]+\/)+([^\s'"`/\\:;,()<>[\]{}]+)|\b[A-Za-z]:\\(?:[^\s'"`\\:;,()<>[\]{}]+\\)*([^\s'"`\\:;,()<>[\]{}]+)/g

/**
 * `text` with every absolute file path shortened to `.../<file name>`: error details sent
 * to a remote caller must not tell it where the server keeps its files (an `ENOENT`
 * message names the full path). The file name stays, to keep the detail useful.
 */
export function scrubPaths(text: string): string {
  if (!text.includes('/') && !text.includes('\\')) return text
  return text.replace(ABSOLUTE_PATH, (_path, posixName?: string, windowsName?: string) => {
    return `.../${posixName ?? windowsName ?? ''}`
  })
}
