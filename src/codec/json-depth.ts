const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/**
 * Whether JSON text nests objects and arrays deeper than `limit`, found by one pass over
 * the bytes (strings skipped with a native search for their closing quote), stopping at
 * the first level past the limit. Nothing is allocated. Text no longer than `limit` cannot
 * be that deep and is not scanned at all, so small bodies pay one comparison.
 *
 * Run before `JSON.parse`: parsing megabytes of `[[[[...` blocks the event loop, and
 * what the handler then walks recursively can overflow the stack. Malformed text is left
 * for the parser to report.
 */
export function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  const length = bytes.length
  if (length <= limit) return false
  let depth = 0
  for (let i = 0; i < length; i++) {
    const c = bytes[i] as number
    if (c === QUOTE) {
      i = closingQuote(bytes, i + 1)
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true
    } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && depth > 0) {
      depth--
    }
  }
  return false
}

/** Index of the quote closing a string whose content starts at `from` (length when unterminated). */
function closingQuote(bytes: Uint8Array, from: number): number {
  let at = from
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at)
    if (quote === -1) return bytes.length
    // Escaped when preceded by an odd number of backslashes.
    let slashes = 0
    while (quote - slashes - 1 >= from && bytes[quote - slashes - 1] === BACKSLASH) slashes++
    if (slashes % 2 === 0) return quote
    at = quote + 1
  }
}
