import { cloneService } from './records.js'
import type { ServiceRecord, WatchEvent } from './registry.js'

/**
 * A frozen deep copy of a record. The cache hands the same objects to every caller on the hot
 * path, so they must not be editable; changes build new records instead.
 */
export function frozenRecord(record: ServiceRecord): ServiceRecord {
  return deepFreeze(cloneService(record))
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/**
 * The records after a watch event, as a new array (the input is never changed). `create` and
 * `update` upsert the event's nodes into its version and take the event's metadata and
 * endpoints; `delete` removes its nodes, and a version left with no nodes disappears.
 */
export function applyEvent(records: readonly ServiceRecord[], event: WatchEvent): readonly ServiceRecord[] {
  const { service } = event
  const index = records.findIndex((r) => r.version === service.version)
  const current = records[index]
  if (event.action === 'delete') {
    if (!current) return records
    const gone = new Set(service.nodes.map((n) => n.id))
    const nodes = current.nodes.filter((n) => !gone.has(n.id))
    if (nodes.length === current.nodes.length) return records
    const next = [...records]
    if (nodes.length === 0) next.splice(index, 1)
    else next[index] = frozenRecord({ ...current, nodes })
    return next
  }
  if (service.nodes.length === 0 && !current) return records
  const incoming = new Map(service.nodes.map((n) => [n.id, n]))
  // Known nodes keep their place (round-robin order stays stable); new ones go last.
  const nodes = (current?.nodes ?? []).map((n) => incoming.get(n.id) ?? n)
  const known = new Set(nodes.map((n) => n.id))
  for (const node of service.nodes) {
    if (known.has(node.id)) continue
    known.add(node.id)
    nodes.push(node)
  }
  const record = frozenRecord({ ...service, nodes })
  const next = [...records]
  if (current) next[index] = record
  else next.push(record)
  return next
}
