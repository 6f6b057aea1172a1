/**
 * Service identities as certificates carry them: the URI SAN `micro://<namespace>/<service>`.
 * A client checks the server's, a server reads the client's.
 *
 * @module
 */

import { NAMESPACE_NAME } from '../../registry/registry.js'

/** The scheme of a service identity URI. */
export const IDENTITY_SCHEME = 'micro://'

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/

/** The service whose identity is always in namespace `micro`, whatever the caller's namespace. */
const PLATFORM = 'platform'
const PLATFORM_NAMESPACE = 'micro'

/** A namespace and a service name. */
export interface ServiceName {
  namespace: string
  service: string
}

/** `micro://<namespace>/<service>`; a TypeError when either is not a valid name. */
export function serviceIdentity(namespace: string, service: string): string {
  if (!NAMESPACE_NAME.test(namespace))
    throw new TypeError(`not a namespace: ${JSON.stringify(namespace).slice(0, 80)}`)
  if (!SERVICE.test(service))
    throw new TypeError(`not a service name: ${JSON.stringify(service).slice(0, 80)}`)
  return `${IDENTITY_SCHEME}${namespace}/${service}`
}

/**
 * The identity a client expects from a node of `service` it found in `namespace`. The
 * platform lives in `micro` whichever namespace calls it.
 */
export function expectedIdentity(namespace: string, service: string): string {
  return service === PLATFORM
    ? `${IDENTITY_SCHEME}${PLATFORM_NAMESPACE}/${PLATFORM}`
    : serviceIdentity(namespace, service)
}

/** The namespace and service of an identity URI, or undefined when it is not one. */
export function parseServiceIdentity(uri: string): ServiceName | undefined {
  if (!uri.startsWith(IDENTITY_SCHEME)) return undefined
  const rest = uri.slice(IDENTITY_SCHEME.length)
  const slash = rest.indexOf('/')
  if (slash === -1) return undefined
  const namespace = rest.slice(0, slash)
  const service = rest.slice(slash + 1)
  return NAMESPACE_NAME.test(namespace) && SERVICE.test(service) ? { namespace, service } : undefined
}

/**
 * The service identities in a certificate's `subjectAltName` as node prints it
 * (`URI:micro://micro/greeter, DNS:localhost, IP Address:127.0.0.1`). Node quotes entries
 * holding a separator; such an entry is never a valid identity, so it is skipped.
 */
export function sanIdentities(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return []
  const found: string[] = []
  for (const entry of subjectAltName.split(', ')) {
    if (!entry.startsWith('URI:')) continue
    const uri = entry.slice(4)
    if (parseServiceIdentity(uri) !== undefined) found.push(uri)
  }
  return found
}
