import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RouteCache, resolveApiPath } from './routes.js'

// Micro v3's resolver cases (service/api/resolver route_test.go) and the issue's examples,
// as [path after /api/, service, endpoint].
const CASES: [string, string, string][] = [
  ['foo', 'foo', 'Foo.Call'],
  ['foo/bar', 'foo', 'Foo.Bar'],
  ['greeter/hello', 'greeter', 'Greeter.Hello'],
  ['greeter/say/hello', 'greeter', 'Say.Hello'],
  ['foo/foo/bar', 'foo', 'Foo.Bar'],
  ['foo/bar/baz', 'foo', 'Bar.Baz'],
  ['foo/bar/baz/cat', 'foo.bar', 'Baz.Cat'],
  ['v1/foo/bar', 'v1.foo', 'Foo.Bar'],
  ['v1/foo/bar/baz', 'v1.foo', 'Bar.Baz'],
  ['v2/greeter/say-hello', 'v2.greeter', 'Greeter.SayHello'],
  ['greeter/say-hello', 'greeter', 'Greeter.SayHello'],
  ['baz-xyz/get-all-things', 'baz-xyz', 'BazXyz.GetAllThings'],
  ['greeter/sayHello', 'greeter', 'Greeter.SayHello'],
  // the dotted form: the endpoint as written
  ['greeter/Greeter.Hello', 'greeter', 'Greeter.Hello'],
  ['foo.bar/Baz.Cat', 'foo.bar', 'Baz.Cat'],
  ['greeter/Say.Hello', 'greeter', 'Say.Hello'],
  // Micro v3 cleans the path: empty segments do not count
  ['greeter//hello/', 'greeter', 'Greeter.Hello'],
  ['/greeter/hello', 'greeter', 'Greeter.Hello'],
]

test('path rules: Micro v3 resolver cases and the dotted form', () => {
  for (const [path, service, endpoint] of CASES) {
    assert.deepEqual(resolveApiPath(path), { service, endpoint }, path)
  }
})

test('paths no rule takes resolve to nothing (the gateway answers 404)', () => {
  for (const path of [
    '',
    '/',
    '..',
    'greeter/..',
    'greeter/./hello',
    'greeter/hel%20lo',
    'greeter/hello world',
    'greeter/-hello',
    'greeter/hello-',
    'greeter/Greeter.Hello.Extra',
    'greeter/.Hello',
    'bad name/Greeter.Hello',
    '../etc/passwd',
  ]) {
    assert.equal(resolveApiPath(path), undefined, path)
  }
})

test('the route cache is bounded and answers like the rules', () => {
  const cache = new RouteCache(8)
  for (let i = 0; i < 100; i++) cache.get(`svc${i}/method`)
  assert.equal(cache.size, 8)
  assert.deepEqual(cache.get('greeter/hello'), { service: 'greeter', endpoint: 'Greeter.Hello' })
  assert.equal(cache.get('greeter/..'), undefined)
  assert.equal(cache.get('greeter/..'), undefined, 'a remembered miss is still a miss')
  assert.equal(cache.size, 8)
})
