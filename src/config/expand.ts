import { mapStrings } from './tree.js'

// `$${` is an escaped literal `${`; only the braced form expands, so a password with a
// bare `$` in it is left alone.
const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Expand `${VAR}` and `${VAR:-default}` in one string from `env`. As in the shell, an unset
 * variable is empty and `:-` also applies when the variable is set but empty.
 */
export function expandString(text: string, env: NodeJS.ProcessEnv): string {
  if (!text.includes('${')) return text
  return text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${'
    const value = env[name as string]
    if (value === undefined || value === '') return fallback ?? ''
    return value
  })
}

/** Expand variables in every string of a config tree (a new tree is returned). */
export function expandTree(tree: unknown, env: NodeJS.ProcessEnv): unknown {
  return mapStrings(tree, (text) => expandString(text, env))
}
