import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../../src/errors/errors.js'
import type { Service } from '../../src/service/service.js'
import { FrameType } from '../../src/transport/frame.js'
import { startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { RawMicro } from '../support/raw-micro.js'

/**
 * What an error tells a remote caller: a malformed URL is the caller's fault (400, not a
 * 500 from a URIError), and a handler's ENOENT no longer sends the server's file layout.
 */
describe('abuse: bad URLs and error details', () => {
  let service: Service
  let address: string
  const cwd = process.cwd()

  before(async () => {
    ;({ service } = await startFaultService())
    address = service.address as string
  })
  after(() => service.stop())

  test('a malformed %-escape in the URL is a 400', async () => {
    for (const path of ['/Fault/%E0%A4%A', '/Fault%ZZ/Echo', '/%C0%AF.Echo']) {
      const raw = await RawHttp.connect(address)
      raw.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
      )
      const text = await raw.whenText(/\r\n\r\n[\s\S]*\}$/)
      raw.close()
      assert.match(text, /^HTTP\/1.1 400 /, path)
      assert.match(text, /malformed URL/)
    }
    const ok = await fetch(`http://${address}/Fault/Echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"still":"fine"}',
    })
    assert.deepEqual(await ok.json(), { still: 'fine' })
  })

  test('an ENOENT reaches the caller as a 500 without the absolute path, on every protocol', async () => {
    const check = (text: string) => {
      assert.ok(!text.includes(cwd), `no server path in ${text}`)
      assert.match(text, /ENOENT: no such file or directory, open '\.\.\.\/secret.json'/)
    }
    await assert.rejects(
      service.client.call('faulty', 'Fault.ReadMissing', {}, { address }),
      (e: MicroError) => {
        assert.equal(e.code, 500)
        check(e.detail)
        return true
      },
    )
    const res = await fetch(`http://${address}/Fault/ReadMissing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(res.status, 500)
    check(await res.text())
    check(res.headers.get('micro-error') ?? '')
    const raw = await RawMicro.connect(address)
    raw.request(1, 'Fault.ReadMissing', '{}')
    const frame = await raw.frameFor(1)
    raw.close()
    assert.equal(frame.type, FrameType.Error)
    check(frame.body.toString())
  })
})
