import { randomUUID } from 'node:crypto'

/** A random UUID v4. */
export function uuid(): string {
  return randomUUID()
}
