// "Copy as": the same call as a curl line, a `micro` command, or TypeScript.

export interface CallShape {
  service: string
  endpoint: string
  request: unknown
  namespace: string
  metadata: Record<string, string>
  /** A node's `host:port`, when one is picked or known. */
  address?: string
  stream: boolean
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

/** curl to a node's HTTP side (the Go Micro call: `Micro-Endpoint` header, JSON body). */
export function asCurl(call: CallShape): string {
  const headers = [
    `-H 'Content-Type: application/json'`,
    `-H ${shellQuote(`Micro-Endpoint: ${call.endpoint}`)}`,
  ]
  for (const [k, v] of Object.entries(call.metadata)) headers.push(`-H ${shellQuote(`${k}: ${v}`)}`)
  return `curl -XPOST ${headers.join(' ')} \\\n  -d ${shellQuote(JSON.stringify(call.request))} \\\n  http://${call.address ?? '<node address>'}`
}

/** The `micro` CLI. */
export function asCli(call: CallShape): string {
  const ns = call.namespace !== 'micro' ? ` --namespace ${call.namespace}` : ''
  // A streaming endpoint takes a JSON array: each element is one message.
  const body = JSON.stringify(call.stream ? [call.request] : call.request)
  return `micro call ${call.service} ${call.endpoint} ${shellQuote(body)}${call.stream ? ' --stream' : ''}${ns}`
}

/** A TypeScript client snippet. */
export function asTypeScript(call: CallShape): string {
  const options: string[] = []
  if (call.namespace !== 'micro') options.push(`namespace: '${call.namespace}'`)
  if (Object.keys(call.metadata).length > 0) options.push(`metadata: ${JSON.stringify(call.metadata)}`)
  const opts = options.length > 0 ? `, { ${options.join(', ')} }` : ''
  const request = JSON.stringify(call.request, null, 2).replace(/\n/g, '\n  ')
  const head = `import { createService } from 'micro-ts'\n\nconst { client } = createService({ name: 'caller' })\n`
  if (call.stream) {
    return `${head}const stream = client.stream('${call.service}', '${call.endpoint}'${opts})\nawait stream.send(${request})\nawait stream.closeSend()\nfor await (const reply of stream) console.log(reply)\n`
  }
  return `${head}const reply = await client.call('${call.service}', '${call.endpoint}', ${request}${opts})\nconsole.log(reply)\n`
}
