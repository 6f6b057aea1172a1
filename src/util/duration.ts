const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Milliseconds from a duration setting: `"250ms"`, `"30s"`, `"5m"`, `"1h"`, or a bare
 * number of seconds (as Go Micro's flags take them). Throws a TypeError naming the input.
 */
export function parseDuration(text: string, name = 'duration'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(trimmed)
  if (!match)
    throw new TypeError(
      `${name} must be a duration like 500ms, 30s, 5m or a number of seconds, not "${text}"`,
    )
  return Number(match[1]) * (UNITS[match[2] as string] as number)
}

/** The duration from an environment variable, or `fallback` when it is unset or empty. */
export function envDuration(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name]
  return value === undefined || value === '' ? fallback : parseDuration(value, name)
}
