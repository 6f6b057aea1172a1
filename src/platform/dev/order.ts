import { DefinitionError } from '../../definition/problems.js'

/** A node of the dependency graph: a name and the names it depends on. */
export interface Dependent {
  name: string
  depends: readonly string[]
}

/**
 * The services in start order: every service after all of its dependencies, otherwise in
 * the order given (Kahn's algorithm, stable). A cycle is an error naming it
 * (`a -> b -> a`); a dependency on a name that is not in the list is one too.
 */
export function startOrder<T extends Dependent>(services: readonly T[], source = 'micro run'): T[] {
  const byName = new Map(services.map((s) => [s.name, s]))
  for (const service of services) {
    for (const dep of service.depends) {
      if (!byName.has(dep)) {
        throw new DefinitionError(source, [
          { key: `services.${service.name}.depends`, message: `names ${dep}, which is not a service here` },
        ])
      }
    }
  }
  const placed = new Set<string>()
  const order: T[] = []
  while (order.length < services.length) {
    const next = services.find((s) => !placed.has(s.name) && s.depends.every((d) => placed.has(d)))
    if (!next) {
      const cycle = findCycle(services.filter((s) => !placed.has(s.name)))
      throw new DefinitionError(source, [
        {
          key: 'depends',
          message: `services depend on each other in a cycle: ${cycle.join(' -> ')}`,
          fix: `remove one of these dependencies`,
        },
      ])
    }
    placed.add(next.name)
    order.push(next)
  }
  return order
}

/**
 * Stop order: dependents before what they depend on, as levels stopped one after the
 * other (each level's services at once). The reverse of the start levels.
 */
export function stopLevels<T extends Dependent>(services: readonly T[]): T[][] {
  const level = new Map<string, number>()
  for (const service of startOrder(services)) {
    level.set(service.name, Math.max(0, ...service.depends.map((d) => (level.get(d) ?? 0) + 1)))
  }
  const levels: T[][] = []
  for (const service of services) {
    const at = level.get(service.name) ?? 0
    const list = levels[at] ?? []
    list.push(service)
    levels[at] = list
  }
  return levels.filter(Boolean).reverse()
}

/** One cycle among services that cannot be ordered: the path from a service back to itself. */
function findCycle(services: readonly Dependent[]): string[] {
  const byName = new Map(services.map((s) => [s.name, s]))
  const start = services[0]
  if (!start) return []
  // Every remaining service has a remaining dependency, so walking any of them loops.
  const path: string[] = []
  const seen = new Map<string, number>()
  let current: Dependent | undefined = start
  while (current && !seen.has(current.name)) {
    seen.set(current.name, path.length)
    path.push(current.name)
    const next: string | undefined = current.depends.find((d) => byName.has(d))
    current = next === undefined ? undefined : byName.get(next)
  }
  if (!current) return path
  return [...path.slice(seen.get(current.name)), current.name]
}
