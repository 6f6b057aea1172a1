import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../src/errors/errors.js'
import { createLogger } from '../src/logger/logger.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import { createService } from '../src/service/service.js'
import { isLost } from '../src/transport/transport-errors.js'
import { startFaultService } from './support/fault-service.js'
import { spawnNode } from './support/process.js'

describe('a peer killed with SIGKILL', () => {
  test('server killed mid-stream and mid-call: the caller gets a clear 503, not a hang', async () => {
    const server = spawnNode(['--import', 'tsx', 'test/fixtures/fault-server.ts'])
    const address = (await server.waitFor(/serving on (\S+)/))[1] as string
    const caller = createService({
      name: 'caller',
      registry: new MemoryRegistry(),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    try {
      const stream = caller.client.stream<{ every: number }, { i: number }>('faulty', 'Fault.Ticks', {
        address,
      })
      await stream.send({ every: 10 })
      const ticks = stream[Symbol.asyncIterator]()
      assert.deepEqual((await ticks.next()).value, { i: 0 })
      const hanging = caller.client.call('faulty', 'Fault.Hang', {}, { address, timeout: 10_000 })
      hanging.catch(() => {})
      await new Promise((r) => setTimeout(r, 50))
      server.process.kill('SIGKILL')
      const failure = await (async () => {
        try {
          for (;;) if ((await ticks.next()).done) return undefined
        } catch (error) {
          return error
        }
      })()
      assert.ok(failure instanceof MicroError && failure.code === 503, `stream ended with ${failure}`)
      assert.match(failure.detail, /connection to .* (lost|closed)/)
      await assert.rejects(hanging, (e: unknown) => e instanceof MicroError && e.code === 503 && isLost(e))
    } finally {
      server.process.kill('SIGKILL')
      await caller.stop()
    }
  })

  test('client killed mid-stream: the handler is aborted and the server serves the next call', async () => {
    const { service, log } = await startFaultService()
    try {
      const client = spawnNode([
        '--import',
        'tsx',
        'test/fixtures/stream-client.ts',
        service.address as string,
      ])
      await client.waitFor(/streaming/)
      assert.equal(service.server.activeCalls, 1)
      client.process.kill('SIGKILL')
      await client.exited
      const deadline = Date.now() + 2000
      while (service.server.activeCalls > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10))
      assert.equal(service.server.activeCalls, 0)
      assert.equal(log.streamsAborted, 1)
      const reply = await service.client.call(
        'faulty',
        'Fault.Echo',
        { alive: true },
        { address: service.address as string },
      )
      assert.deepEqual(reply, { alive: true })
    } finally {
      await service.stop()
    }
  })
})
