import assert from 'node:assert/strict'
import { test } from 'node:test'
import { importPeer, packageOf } from './optional-import.js'

test('a missing peer dependency is a one-line error naming the package', async () => {
  await assert.rejects(
    importPeer('micro-ts-no-such-package', 'the test engine'),
    (e: Error) =>
      e.message ===
      'the test engine needs the package micro-ts-no-such-package: npm install micro-ts-no-such-package',
  )
  const yaml = await importPeer<{ parse: (s: string) => unknown }>('yaml', 'the config file source')
  assert.deepEqual(yaml.parse('a: 1'), { a: 1 })
})

test('the install hint names the package, not the module path inside it', async () => {
  assert.equal(packageOf('tsx/esm/api'), 'tsx')
  assert.equal(packageOf('@nats-io/transport-node'), '@nats-io/transport-node')
  assert.equal(packageOf('@scope/pkg/sub/path'), '@scope/pkg')
  await assert.rejects(
    importPeer('micro-ts-no-such-package/esm/api', 'running the TypeScript file x.ts'),
    (e: Error) =>
      e.message ===
      'running the TypeScript file x.ts needs the package micro-ts-no-such-package: npm install micro-ts-no-such-package',
  )
})
