import { createHash } from 'node:crypto'
import { isIP } from 'node:net'

/**
 * DNS names of the micro mDNS record format. Our own format, not Go Micro's:
 *
 * - `_micro._tcp.local`            PTR to every node, in every namespace
 * - `_micro._tcp.<ns>.local`       PTR to every node of namespace `<ns>`
 * - `_s-<hash>._sub._micro._tcp.<ns>.local` PTR to every node of one service (a DNS-SD
 *   subtype), so looking one service up is answered by its nodes only
 * - `<node>._micro._tcp.<ns>.local` the node's instance: SRV (port, host) and TXT (the record)
 *
 * Namespaces and node ids are free-form strings, so both are turned into safe DNS labels
 * (at most 63 bytes of `[a-z0-9-]`); the exact values travel in the TXT payload.
 */
const SERVICE_TYPE = '_micro._tcp'
const DOMAIN = 'local'

/** The PTR name listing nodes of every namespace. */
export const ANY_TYPE_NAME = `${SERVICE_TYPE}.${DOMAIN}`

const SAFE_LABEL = /^[a-z0-9-]{1,63}$/
const INSTANCE_NAME = /\._micro\._tcp\.[a-z0-9-]{1,63}\.local$/

function sha256(text: string, hexChars: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars)
}

/**
 * The DNS label of a namespace. `[a-z0-9-]` names are used as they are, except those with
 * `--` as their 2nd and 3rd characters, reserved (as `xn--` is) for the encoded forms: `x--<hex>` for
 * other names and `h--<sha256>` for names too long to hex-encode in 63 bytes.
 */
export function namespaceLabel(namespace: string): string {
  if (SAFE_LABEL.test(namespace) && namespace.slice(1, 3) !== '--') return namespace
  const hex = Buffer.from(namespace, 'utf8').toString('hex')
  return hex.length <= 60 ? `x--${hex}` : `h--${sha256(namespace, 40)}`
}

/** The PTR name listing the nodes of one namespace. */
export function namespaceTypeName(namespace: string): string {
  return `${SERVICE_TYPE}.${namespaceLabel(namespace)}.${DOMAIN}`
}

/** The PTR name (a DNS-SD subtype) listing the nodes of one service in one namespace. */
export function serviceTypeName(namespace: string, service: string): string {
  return `_s-${sha256(service, 24)}._sub.${namespaceTypeName(namespace)}`
}

/**
 * The instance name of one node of one service version. The readable part comes from the
 * node id; the hash keeps names unique when ids are long, unusual, or reused across versions.
 */
export function instanceName(namespace: string, service: string, version: string, nodeId: string): string {
  const readable = nodeId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 40)
  const label = `${readable}-${sha256(`${service}\0${version}\0${nodeId}`, 12)}`
  return `${label}.${namespaceTypeName(namespace)}`
}

/** Whether `name` looks like one of our instance names (case-insensitive, as DNS is). */
export function isInstanceName(name: string): boolean {
  return INSTANCE_NAME.test(name.toLowerCase())
}

/** Whether instance `name` belongs to `namespace`, so a payload cannot claim another's namespace. */
export function inNamespace(name: string, namespace: string): boolean {
  return name.toLowerCase().endsWith(`.${namespaceTypeName(namespace)}`)
}

/**
 * SRV data for a `host:port` address. The port is 0 and the target `localhost` when the address
 * does not say; SRV is informational here, since clients read the address from the TXT payload.
 */
export function srvData(address: string): { port: number; target: string } {
  const colon = address.lastIndexOf(':')
  const host = (colon >= 0 ? address.slice(0, colon) : address).replace(/^\[|\]$/g, '')
  const port = colon >= 0 ? Number(address.slice(colon + 1)) : 0
  const validHost =
    isIP(host) !== 0 ||
    (host.length > 0 && host.length < 200 && /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/i.test(host))
  return {
    port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 0,
    target: validHost ? host : 'localhost',
  }
}
