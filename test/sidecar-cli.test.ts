import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { runNode } from './support/process.js'

const sidecar = (...args: string[]) =>
  runNode(['dist/cli/main.js', 'sidecar', ...args], { MICRO_LOG_LEVEL: 'warn' })

test('micro sidecar --help: the usage, with the start order and the API', async () => {
  const help = await sidecar('--help')
  assert.equal(help.code, 0)
  assert.match(help.stdout, /--app-port <port>/)
  assert.match(help.stdout, /\/v1\/healthz\/outbound/)
  const all = await runNode(['dist/cli/main.js', '--help'])
  assert.match(all.stdout, /sidecar --name n --app-port p/)
})

test('micro sidecar: usage mistakes exit 2 naming the option', async () => {
  const cases: [string[], RegExp][] = [
    [['--app-port', '5000'], /--name is required/],
    [['--name', 'py'], /--app-port is required/],
    [['--name', 'py', '--app-port', 'http'], /--app-port must be a port number/],
    [['--name', 'py', '--app-port', '5000', '--port', '70000'], /--port must be a port number/],
    [['--name', 'py', '--app-port', '5000', '--port', '1', '--address', '127.0.0.1:2'], /not both/],
    [['--name', 'py', '--app-port', '5000', '--max-body', '-1'], /--max-body/],
    [['--name', 'py', '--app-port', '5000', '--app-timeout', 'soon'], /--app-timeout must be a duration/],
    [['--name', 'no spaces', '--app-port', '5000'], /service name must be/],
    [['--name', 'py', '--app-port', '5000', '--endpoints', 'create'], /name must be Handler.Method/],
    [['--name', 'py', '--app-port', '5000', '--metadata', 'authorization'], /never crosses/],
    [['--name', 'py', '--app-port', '5000', '--bogus'], /Unknown option '--bogus'/],
  ]
  for (const [args, message] of cases) {
    const run = await sidecar(...args)
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    assert.match(run.stderr, message, args.join(' '))
  }
})

test('micro sidecar: a port in use is a clear error, exit 1', async () => {
  const taken = createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  try {
    const port = (taken.address() as { port: number }).port
    const run = await sidecar('--name', 'py', '--app-port', '5000', '--port', String(port))
    assert.equal(run.code, 1)
    assert.match(run.stderr, /EADDRINUSE/)
  } finally {
    taken.close()
  }
})
