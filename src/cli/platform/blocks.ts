import type { Broker } from '../../broker/broker.js'
import { ServiceBroker } from '../../broker/service.js'
import { setPlatformIdentity } from '../../engines/platform.js'
import type { Events } from '../../events/events.js'
import { ServiceEvents } from '../../events/service.js'
import { ServiceStore } from '../../store/service.js'
import type { Store } from '../../store/store.js'
import { cliIdentity } from '../auth-tokens.js'

/**
 * The platform's blocks for CLI commands: the very `service` engines services use
 * (`MICRO_PLATFORM`), so the CLI speaks the platform's request shapes as they are, with
 * the login `micro login` kept for that platform on every call.
 */
function signedIn(address: string): void {
  setPlatformIdentity(address, cliIdentity(address))
}

/** The platform's store (`Store.*`); each call names its namespace. */
export function platformStore(address: string): Store {
  signedIn(address)
  return new ServiceStore({ address })
}

/** The platform's durable events (`Events.*`) in `namespace` (calls may name another). */
export function platformEvents(address: string, namespace: string): Events {
  signedIn(address)
  return new ServiceEvents({ address, namespace })
}

/** The platform's broker (`Broker.*`), its topics in `namespace`. */
export function platformBroker(address: string, namespace: string): Broker {
  signedIn(address)
  return new ServiceBroker({ address, namespace })
}
