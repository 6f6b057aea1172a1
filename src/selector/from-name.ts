import { LeastInFlightSelector } from './least-in-flight.js'
import type { NodeHealthOptions } from './node-health.js'
import { RandomSelector } from './random.js'
import { RoundRobinSelector } from './round-robin.js'
import type { Selector } from './selector.js'

const selectors: Record<string, (options?: NodeHealthOptions) => Selector> = {
  'least-in-flight': (o) => new LeastInFlightSelector(o),
  random: (o) => new RandomSelector(o),
  'round-robin': (o) => new RoundRobinSelector(o),
  roundrobin: (o) => new RoundRobinSelector(o),
}

/** A selector by name (`least-in-flight` by default, `random`, `round-robin`). */
export function createSelector(name = 'least-in-flight', options?: NodeHealthOptions): Selector {
  const make = selectors[name]
  if (!make) {
    throw new TypeError(`unknown selector ${name}: choose one of least-in-flight, random, round-robin`)
  }
  return make(options)
}
