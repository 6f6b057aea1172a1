import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { type DevHttpServer, listenDevHttp, parseAddress } from './http.js'

async function listen(address: string): Promise<DevHttpServer> {
  const server = await listenDevHttp(address)
  assert.ok(!('taken' in server), `${address} was taken`)
  return server
}

describe('the dev loop’s HTTP address', () => {
  test('serves what is mounted; 404 for what it does not answer; a failing handler is a 500 without its message', async () => {
    const server = await listen('127.0.0.1:0')
    try {
      server.mount(
        Promise.resolve({
          handle(req, res) {
            if (req.url === '/hello') {
              res.end('hello')
              return true
            }
            if (req.url === '/boom') throw new Error('secret detail')
            return false
          },
        }),
      )
      const base = `http://${server.address}`
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello')
      const missing = await fetch(`${base}/nothing`)
      assert.equal(missing.status, 404)
      assert.equal(((await missing.json()) as { code: number }).code, 404)
      const boom = await fetch(`${base}/boom`)
      assert.equal(boom.status, 500)
      assert.doesNotMatch(await boom.text(), /secret/)
    } finally {
      await server.close()
    }
  })

  test('requests that come before the mount wait for it', async () => {
    const server = await listen('127.0.0.1:0')
    try {
      const pending = fetch(`http://${server.address}/x`)
      await new Promise((r) => setTimeout(r, 20))
      server.mount(
        Promise.resolve({
          handle: (_req, res) => {
            res.end('late')
            return true
          },
        }),
      )
      assert.equal(await (await pending).text(), 'late')
    } finally {
      await server.close()
    }
  })

  test('an address in use is reported as taken, not thrown', async () => {
    const holder = createServer()
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r))
    try {
      const port = (holder.address() as AddressInfo).port
      assert.deepEqual(await listenDevHttp(`127.0.0.1:${port}`), { taken: true })
    } finally {
      holder.close()
    }
  })

  test('an address that cannot be bound for another reason rejects; bad addresses are clear errors', async () => {
    await assert.rejects(listenDevHttp('192.0.2.1:0'), /cannot listen on 192\.0\.2\.1:0/)
    assert.deepEqual(parseAddress(':8080'), { host: '127.0.0.1', port: 8080 })
    assert.deepEqual(parseAddress('[::1]:9000'), { host: '::1', port: 9000 })
    for (const bad of ['8080', 'host', 'host:99999', 'host:-1', '']) {
      assert.throws(() => parseAddress(bad), /--address must be host:port/, bad)
    }
  })
})
