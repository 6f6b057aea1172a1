import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { badRequest } from '../../errors/errors.js'
import type { Logger } from '../../logger/logger.js'
import type { Store } from '../../store/store.js'
import { serviceIdentity } from '../../transport/tls/identity.js'
import { AUTH_ERROR_ID } from '../auth.js'
import type { KeyEncryption, Sealed } from '../key-encryption.js'
import { type AuthTables, DEFAULT_AUTH_TABLES, readValue, tableOptions } from '../tables.js'
import {
  type Issuer,
  keyIdentifier,
  leafCertificate,
  selfSignedRoot,
  statedKeyIdentifier,
  subjectOf,
} from './x509.js'

/** How long a service certificate lives by default: a day (renewed at two thirds). */
export const DEFAULT_LEAF_TTL = 24 * 3600_000
/** The longest a service certificate may live: a week. */
export const MAX_LEAF_TTL = 7 * 24 * 3600_000
/** How long the platform's own root lives: ten years. */
const ROOT_TTL = 10 * 365 * 24 * 3600_000
/** Hosts (DNS names, IPs) one certificate may name. */
const MAX_HOSTS = 32
/** Issued certificates start this far back, for peers whose clocks run behind. */
const BACKDATE_MS = 5 * 60_000

/** The root as kept in the store: the private key sealed like the signing keys. */
interface StoredRoot {
  certificate: string
  privateKey: Sealed
  created: number
}

export interface CertificateAuthorityOptions {
  /** Where the root lives (the platform's auth store). */
  store: Store
  tables?: AuthTables
  /** Seals the root's private key at rest (the auth signing keys' encryption). */
  encryption: KeyEncryption
  /** MICRO_TLS_CA and MICRO_TLS_CA_KEY (PEM files): sign with this CA instead of the platform's own. */
  env?: NodeJS.ProcessEnv
  /** Lifetime of issued certificates, ms. Default 24 h. */
  leafTtlMs?: number
  logger?: Logger
}

/** What a service asks for: a certificate for its public key. */
export interface CertificateRequest {
  namespace: string
  service: string
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`): the private key never leaves the service. */
  publicKey: string | KeyObject
  /** The account instance (`uid`), carried in the subject so a deleted account's certificate can be told apart. */
  uid?: string
  /** DNS names and IP addresses the service answers on. */
  hosts?: readonly string[]
  ttlMs?: number
}

/** An issued certificate, PEM. */
export interface IssuedCertificate {
  /** The leaf. */
  certificate: string
  /** The certificates between the leaf and the root (the root included): send them with the leaf. */
  chain: string[]
  /** The root peers trust (MICRO_TLS_CA of the callers). */
  ca: string
  /** `micro://<namespace>/<service>` */
  identity: string
  /** Epoch ms */
  notAfter: number
}

/**
 * The platform's certificate authority: a P-256 root made once and kept in the auth store
 * (private key sealed with the key that seals the token signing keys), or the user's CA
 * from MICRO_TLS_CA / MICRO_TLS_CA_KEY. It issues short-lived leaf certificates naming a
 * service by the URI SAN `micro://<namespace>/<service>`, for client and server
 * authentication. No revocation list: certificates live a day (at most a week), and
 * renewal needs the service's account, so a deleted account's certificate dies with its
 * last day. Rotating the root is not automatic: see README.
 */
export class CertificateAuthority {
  readonly #issuer: Issuer
  readonly #root: X509Certificate
  readonly #leafTtl: number
  readonly #logger: Logger | undefined

  private constructor(issuer: Issuer, root: X509Certificate, options: CertificateAuthorityOptions) {
    this.#issuer = issuer
    this.#root = root
    this.#leafTtl = Math.min(options.leafTtlMs ?? DEFAULT_LEAF_TTL, MAX_LEAF_TTL)
    this.#logger = options.logger
  }

  /** Load the CA (the user's from MICRO_TLS_CA/MICRO_TLS_CA_KEY, else the stored root, made on first use). */
  static async open(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const env = options.env ?? process.env
    const [root, key] =
      env.MICRO_TLS_CA && env.MICRO_TLS_CA_KEY
        ? await userCa(env.MICRO_TLS_CA, env.MICRO_TLS_CA_KEY)
        : await storedRoot(options)
    const issuer: Issuer = {
      name: subjectOf(root),
      key,
      keyIdentifier: statedKeyIdentifier(root) ?? Buffer.alloc(0),
    }
    return new CertificateAuthority(issuer, root, options)
  }

  /** The root certificate (PEM): what every peer trusts. */
  get root(): string {
    return this.#root.toString()
  }

  /** The root's SHA-256 fingerprint, to compare out of band. */
  get fingerprint(): string {
    return this.#root.fingerprint256
  }

  /** Issue a certificate for a service's public key; 400 for a bad key, name or host. */
  issue(request: CertificateRequest): IssuedCertificate {
    let identity: string
    try {
      identity = serviceIdentity(request.namespace, request.service)
    } catch (error) {
      throw badRequest(AUTH_ERROR_ID, (error as Error).message)
    }
    const publicKey = acceptedPublicKey(request.publicKey)
    const hosts = checkedHosts(request.hosts)
    const now = Date.now()
    const ttl = Math.max(60_000, Math.min(request.ttlMs ?? this.#leafTtl, MAX_LEAF_TTL))
    let leaf: X509Certificate
    try {
      leaf = leafCertificate(this.#issuer, {
        subject: {
          commonName: identity,
          organization: request.namespace,
          ...(request.uid && /^[A-Za-z0-9-]{1,64}$/.test(request.uid) ? { serialNumber: request.uid } : {}),
        },
        publicKey,
        uris: [identity],
        hosts,
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(now + ttl),
      })
    } catch (error) {
      throw badRequest(AUTH_ERROR_ID, `cannot issue a certificate: ${(error as Error).message}`)
    }
    this.#logger?.info('tls: certificate issued', {
      identity,
      serial: leaf.serialNumber,
      validTo: leaf.validTo,
    })
    return {
      certificate: leaf.toString(),
      chain: [this.root],
      ca: this.root,
      identity,
      notAfter: Date.parse(leaf.validTo),
    }
  }
}

async function storedRoot(options: CertificateAuthorityOptions): Promise<[X509Certificate, KeyObject]> {
  const { store, encryption } = options
  const table = tableOptions(options.tables ?? DEFAULT_AUTH_TABLES, 'ca')
  let stored = await readValue<StoredRoot>(store, 'root', table)
  if (stored === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const name = {
      commonName: `micro CA ${keyIdentifier(publicKey).toString('hex').slice(0, 8)}`,
      organization: 'micro',
    }
    const root = selfSignedRoot(name, privateKey, publicKey, new Date(Date.now() + ROOT_TTL))
    stored = {
      certificate: root.toString(),
      privateKey: encryption.seal(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'ca-root'),
      created: Date.now(),
    }
    await store.write('root', stored, table)
    options.logger?.info('tls: made the platform CA', { fingerprint: root.fingerprint256 })
    // Two replicas starting together: both use what the store holds now.
    stored = (await readValue<StoredRoot>(store, 'root', table)) ?? stored
  }
  const root = new X509Certificate(stored.certificate)
  const key = createPrivateKey(encryption.open(stored.privateKey, 'ca-root'))
  return [root, key]
}

async function userCa(certFile: string, keyFile: string): Promise<[X509Certificate, KeyObject]> {
  const root = new X509Certificate(await readFile(certFile))
  let key: KeyObject
  try {
    key = createPrivateKey(await readFile(keyFile))
  } catch {
    throw new TypeError(`MICRO_TLS_CA_KEY (${keyFile}) is not a PEM private key`)
  }
  if (!root.ca) throw new TypeError(`MICRO_TLS_CA (${certFile}) is not a CA certificate`)
  if (!root.checkPrivateKey(key)) throw new TypeError('MICRO_TLS_CA_KEY is not the key of MICRO_TLS_CA')
  return [root, key]
}

function acceptedPublicKey(value: unknown): KeyObject {
  if (typeof value === 'object' && value !== null && (value as KeyObject).type === 'public')
    return value as KeyObject
  if (typeof value !== 'string' || value.length > 8192)
    throw badRequest(AUTH_ERROR_ID, 'publicKey must be a PEM public key (SPKI)')
  if (value.includes('PRIVATE KEY'))
    throw badRequest(AUTH_ERROR_ID, 'send the public key only: the private key never leaves the service')
  let key: KeyObject
  try {
    key = createPublicKey(value)
  } catch {
    throw badRequest(AUTH_ERROR_ID, 'publicKey must be a PEM public key (SPKI)')
  }
  const type = key.asymmetricKeyType
  const curve = key.asymmetricKeyDetails?.namedCurve
  const ok =
    (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) ||
    type === 'ed25519' ||
    (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048)
  if (!ok)
    throw badRequest(
      AUTH_ERROR_ID,
      'publicKey must be ECDSA P-256/P-384, Ed25519 or RSA of 2048 bits or more',
    )
  return key
}

function checkedHosts(hosts: unknown): string[] {
  if (hosts === undefined) return []
  if (
    !Array.isArray(hosts) ||
    hosts.length > MAX_HOSTS ||
    !hosts.every((h) => typeof h === 'string' && h.length <= 253)
  )
    throw badRequest(AUTH_ERROR_ID, `hosts must be up to ${MAX_HOSTS} DNS names or IP addresses`)
  return [...new Set(hosts as string[])]
}
