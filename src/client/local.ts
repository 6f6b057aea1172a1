import type { Server } from '../server/server.js'

interface LocalService {
  version: string
  server: Server
}

/**
 * Services running in this process, so a client can call them without a socket or a
 * codec (as Moleculer prefers local actions). Services add themselves once serving.
 */
export class LocalServices {
  readonly #byNamespace = new Map<string, Map<string, LocalService[]>>()
  #version = 0

  /** Changes whenever a service is added or removed, so clients can cache `find` results. */
  get version(): number {
    return this.#version
  }

  add(namespace: string, version: string, server: Server): void {
    let services = this.#byNamespace.get(namespace)
    if (!services) {
      services = new Map()
      this.#byNamespace.set(namespace, services)
    }
    const list = services.get(server.name) ?? []
    list.push({ version, server })
    services.set(server.name, list)
    this.#version++
  }

  remove(namespace: string, server: Server): void {
    const services = this.#byNamespace.get(namespace)
    const list = services?.get(server.name)
    if (!services || !list) return
    const rest = list.filter((s) => s.server !== server)
    if (rest.length > 0) services.set(server.name, rest)
    else services.delete(server.name)
    this.#version++
  }

  /** The in-process server of a service (of that version, when given) that is not draining. */
  find(namespace: string, name: string, version?: string): Server | undefined {
    const list = this.#byNamespace.get(namespace)?.get(name)
    if (!list) return undefined
    for (const s of list) {
      if ((version === undefined || s.version === version) && !s.server.draining) return s.server
    }
    return undefined
  }
}

/** The process-wide table every service and client shares by default. */
export const localServices = new LocalServices()
