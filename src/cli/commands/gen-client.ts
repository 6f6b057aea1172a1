import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { MicroError } from '../../errors/errors.js'
import { buildOpenApiDocument } from '../../platform/openapi/document.js'
import { generateTsClient } from '../../platform/openapi/ts-client.js'
import type { ServiceRecord } from '../../registry/registry.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { openSession } from '../session.js'

/** `micro gen client --help` */
export const GEN_CLIENT_HELP = `Usage: micro gen client [--lang ts|openapi] [--service <name>] [--out <file>] [--gateway <url>]

Generate a client for the services in the registry (the platform's when one is in use),
from the JSON Schemas their endpoints publish:

  --lang ts        one TypeScript file, no dependencies (global fetch): a class per
                   service, a method per endpoint, typed requests and replies, errors
                   thrown as MicroApiError {id, code, detail, status}   (default)
  --lang openapi   the OpenAPI 3.1 document the server serves at /openapi.json

  micro gen client --out src/api.ts
  import { Client } from './api.js'
  const api = new Client({ baseUrl: 'http://127.0.0.1:8080' })
  await api.greeter.Greeter.Hello({ name: 'Alice' })

Options:
  --lang <ts|openapi>       what to write (default ts)
  --service <name>          only this service
  --out <file>              where to write (default: standard output)
  --gateway <url>           the gateway the client calls by default (default http://127.0.0.1:8080)
${GLOBAL_HELP}`

/** `micro gen client`: a TypeScript client or the OpenAPI document, from the registry. */
export async function genClientCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    lang: { type: 'string' },
    service: { type: 'string' },
    out: { type: 'string' },
    gateway: { type: 'string' },
  })
  if (global.help) {
    out(GEN_CLIENT_HELP)
    return 0
  }
  if (positionals.length > 0)
    throw new UsageError(`gen client takes no arguments, got ${positionals.join(' ')}`)
  const lang = (values.lang as string | undefined) ?? 'ts'
  if (lang !== 'ts' && lang !== 'openapi') throw new UsageError(`--lang is ts or openapi, not ${lang}`)
  const gateway = (values.gateway as string | undefined) ?? 'http://127.0.0.1:8080'
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(gateway))
    throw new UsageError(`--gateway must be an http(s) URL, got ${gateway}`)
  const service = values.service as string | undefined
  const records = await servicesOf(global, service)
  const document = buildOpenApiDocument(records, { service, serverUrl: gateway, namespace: global.namespace })
  const text =
    lang === 'openapi'
      ? `${JSON.stringify(document, null, 2)}\n`
      : generateTsClient(document, {
          baseUrl: gateway,
          generatedBy: `micro gen client --lang ts${service ? ` --service ${service}` : ''}`,
        })
  const file = values.out as string | undefined
  if (file === undefined || file === '-') {
    out(text.trimEnd())
    return 0
  }
  const path = resolve(file)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, text)
  const operations = Object.keys(document.paths).length - 1
  out(
    `wrote ${file}: ${operations} endpoint${operations === 1 ? '' : 's'} of ${new Set(records.map((r) => r.name)).size} service(s)`,
  )
  return 0
}

async function servicesOf(
  global: Parameters<typeof openSession>[0],
  service: string | undefined,
): Promise<readonly ServiceRecord[]> {
  const session = openSession(global)
  try {
    if (service === undefined) return await session.services.listServices(global.namespace)
    return await session.services.getService(service, global.namespace).catch((error: unknown) => {
      if (error instanceof MicroError && error.code === 404) {
        throw new MicroError(
          'micro.cli',
          `service ${service} not found in namespace ${global.namespace} (see: micro services)`,
          404,
        )
      }
      throw error
    })
  } finally {
    await session.close()
  }
}
