// The conformance CLI imports fs.globSync (Node 22) for its tier-check command only; on
// Node 20 the import alone fails. This stand-in lets the server scenarios run.
export * from 'node:fs'
export function globSync() {
  throw new Error('globSync needs Node 22 (only the conformance tier-check uses it)')
}
