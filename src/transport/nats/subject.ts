/** A subject token: no dots, wildcards or whitespace. */
const TOKEN = '[^\\s.*>]+'
const SUBJECT = new RegExp(`^${TOKEN}(\\.${TOKEN})*$`)
/** `host:port` and `[v6]:port`: what the micro transport listens on, not a subject. */
const HOST_PORT = /:\d+$/

/** The suffix of a node subject that carries batches of requests (queue group: one instance takes each). */
export const MUX_SUFFIX = '._mux'
/** The suffix of a node subject that carries cancels and probes (every instance hears them). */
export const CONTROL_SUFFIX = '._ctl'

/** Whether `subject` is a NATS subject one may publish to (no wildcards, no empty tokens). */
export function isNatsSubject(subject: string): boolean {
  return SUBJECT.test(subject)
}

/**
 * Whether a listen address names a subject. `host:port` (the service's default listen
 * address) and the empty string do not: the transport then picks a subject itself.
 */
export function isListenSubject(address: string): boolean {
  return address !== '' && !HOST_PORT.test(address) && isNatsSubject(address)
}

/** One subject token made of `[A-Za-z0-9_-]`, other characters replaced by `_`. */
export function subjectToken(text: string): string {
  const token = text.replace(/[^A-Za-z0-9_-]/g, '_')
  return token === '' ? '_' : token
}

/**
 * The subject a node of a service listens on: `<prefix>.<namespace>.<service>.<node id>`,
 * each part made a safe token (e.g. `micro.micro.greeter.greeter-1b2c...`).
 */
export function natsNodeSubject(
  namespace: string,
  service: string,
  nodeId: string,
  prefix = 'micro',
): string {
  return `${prefix}.${subjectToken(namespace)}.${subjectToken(service)}.${subjectToken(nodeId)}`
}
