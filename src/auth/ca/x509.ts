import { createHash, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import {
  bitString,
  boolean,
  explicit,
  implicit,
  namedBits,
  octetString,
  oid,
  printableString,
  readElement,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js'

/** OIDs of the algorithms, attributes and extensions the certificates use. */
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const

/** Key usage bits (RFC 5280 4.2.1.3). */
const Usage = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const

/** A distinguished name, as far as these certificates need one. */
export interface Name {
  commonName: string
  organization?: string
  /** The subject's `serialNumber` attribute: the account instance (`uid`) of a service certificate. */
  serialNumber?: string
}

/** Who signs: its subject (DER, copied into each leaf as the issuer), private key and stated key identifier (empty: none). */
export interface Issuer {
  name: Buffer
  key: KeyObject
  keyIdentifier: Buffer
}

/** What a leaf (service) certificate says. */
export interface LeafSpec {
  subject: Name
  publicKey: KeyObject
  /** URI SANs: the service identity, `micro://<namespace>/<service>`. */
  uris: readonly string[]
  /** DNS names and IP addresses the service answers on (server authentication by address). */
  hosts: readonly string[]
  notBefore: Date
  notAfter: Date
}

/** A 16-byte positive serial number (RFC 5280: at most 20 octets, unpredictable). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01
  return bytes
}

function encodeName(name: Name): Buffer {
  const attribute = (type: string, value: Buffer) => set(sequence(oid(type), value))
  return sequence(
    ...(name.organization ? [attribute(OID.organization, utf8String(name.organization))] : []),
    attribute(OID.commonName, utf8String(name.commonName)),
    ...(name.serialNumber ? [attribute(OID.serialNumber, printableString(name.serialNumber))] : []),
  )
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value))
}

/**
 * The subject key identifier a CA certificate states (DER scan for the extension: node
 * does not expose it); a leaf's authority key identifier must repeat it for OpenSSL to
 * find the issuer. Undefined when the certificate has none.
 */
export function statedKeyIdentifier(certificate: X509Certificate): Buffer | undefined {
  const raw = certificate.raw
  const marker = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0e])
  let at = raw.indexOf(marker)
  if (at === -1) return undefined
  at += marker.length
  if (raw[at] === 0x01) at += 3 // critical: BOOLEAN
  if (raw[at] !== 0x04 || raw[at + 2] !== 0x04) return undefined
  const length = raw[at + 3] as number
  if (length === 0 || length > 64) return undefined
  return Buffer.from(raw.subarray(at + 4, at + 4 + length))
}

/** The subject of a certificate as DER, byte for byte (a leaf's issuer must equal it). */
export function subjectOf(certificate: X509Certificate): Buffer {
  const raw = certificate.raw
  const tbs = readElement(raw, readElement(raw, 0).contentStart)
  let at = tbs.contentStart
  // version [0], serialNumber, signature, issuer, validity, then subject
  if (raw[at] === 0xa0) at = readElement(raw, at).end
  for (let i = 0; i < 4; i++) at = readElement(raw, at).end
  return Buffer.from(raw.subarray(at, readElement(raw, at).end))
}

/** The key identifier of a public key: the first 20 bytes of SHA-256 over its SubjectPublicKeyInfo. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(spki).digest().subarray(0, 20)
}

function signatureAlgorithm(key: KeyObject): { id: Buffer; digest: string | null } {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return { id: sequence(oid(OID.ecdsaWithSha256)), digest: 'sha256' }
  if (key.asymmetricKeyType === 'ed25519') return { id: sequence(oid(OID.ed25519)), digest: null }
  throw new TypeError('a CA key is an ECDSA P-256 or Ed25519 key')
}

function signed(
  issuer: Issuer,
  subject: Name,
  publicKey: KeyObject,
  validity: { notBefore: Date; notAfter: Date },
  extensions: Buffer[],
): X509Certificate {
  const algorithm = signatureAlgorithm(issuer.key)
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serialNumber()),
    algorithm.id,
    issuer.name,
    sequence(time(validity.notBefore), time(validity.notAfter)),
    encodeName(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  )
  const signature = sign(algorithm.digest, tbs, issuer.key)
  return new X509Certificate(sequence(tbs, algorithm.id, bitString(signature)))
}

/** A self-signed CA certificate for `key` (path length 0: it signs leaf certificates only). */
export function selfSignedRoot(
  name: Name,
  key: KeyObject,
  publicKey: KeyObject,
  notAfter: Date,
): X509Certificate {
  const id = keyIdentifier(publicKey)
  const notBefore = new Date(Date.now() - 60_000)
  return signed(
    { name: encodeName(name), key, keyIdentifier: id },
    name,
    publicKey,
    { notBefore, notAfter },
    [
      extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
      extension(OID.keyUsage, true, namedBits([Usage.keyCertSign, Usage.cRLSign])),
      extension(OID.subjectKeyIdentifier, false, octetString(id)),
    ],
  )
}

/** A leaf certificate for a service: client and server authentication, its identity as a URI SAN. */
export function leafCertificate(issuer: Issuer, spec: LeafSpec): X509Certificate {
  const names = [
    ...spec.uris.map((uri) => implicit(6, Buffer.from(uri, 'ascii'))),
    ...spec.hosts.map(generalName),
  ]
  return signed(issuer, spec.subject, spec.publicKey, spec, [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits([Usage.digitalSignature])),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.subjectAltName, false, sequence(...names)),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spec.publicKey))),
    ...(issuer.keyIdentifier.length > 0
      ? [extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, issuer.keyIdentifier)))]
      : []),
  ])
}

/** A host as a GeneralName: an IP address (4 or 16 bytes) or a DNS name. */
function generalName(host: string): Buffer {
  const version = isIP(host)
  if (version === 4) return implicit(7, Buffer.from(host.split('.').map(Number)))
  if (version === 6) return implicit(7, ipv6Bytes(host))
  if (!DNS_NAME.test(host))
    throw new TypeError(`not a DNS name or IP address: ${JSON.stringify(host).slice(0, 80)}`)
  return implicit(2, Buffer.from(host, 'ascii'))
}

const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::') as [string, string | undefined]
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  // An embedded IPv4 tail (::ffff:127.0.0.1) is two groups.
  const expand = (list: string[]) =>
    list.flatMap((g) => {
      if (!g.includes('.')) return [Number.parseInt(g, 16)]
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number]
      return [(a << 8) | b, (c << 8) | d]
    })
  const l = expand(left)
  const r = expand(right)
  const all = tail === undefined ? l : [...l, ...new Array(8 - l.length - r.length).fill(0), ...r]
  const bytes = Buffer.alloc(16)
  for (const [i, group] of all.entries()) bytes.writeUInt16BE(group, i * 2)
  return bytes
}

/** PEM text of a certificate. */
export function certificatePem(certificate: X509Certificate): string {
  return certificate.toString()
}
