import assert from 'node:assert/strict'
import { STATUS_CODES } from 'node:http'
import { test } from 'node:test'
import { MicroError, newError } from './errors.js'
import { statusFor } from './status.js'

test("every code from 400 to 599 has a reason phrase, node:http's where it has one", () => {
  for (let code = 400; code <= 599; code++) {
    const known = STATUS_CODES[code]
    const expected =
      known ?? (code === 499 ? 'Client Closed Request' : code < 500 ? 'Client Error' : 'Server Error')
    assert.equal(statusFor(code), expected, `status of ${code}`)
  }
  assert.equal(statusFor(200), '', 'not an error code')
  assert.equal(statusFor(400.5), '', 'not a code')
})

test('an error carries its status on the wire, whatever status the sender wrote', () => {
  assert.equal(newError('shop', 'short and stout', 418).toJSON().status, "I'm a Teapot")
  assert.equal(newError('shop', 'x', 422).status, 'Unprocessable Entity')
  assert.equal(newError('shop', 'x', 599).status, 'Server Error')
  const parsed = MicroError.parse('{"id":"shop","code":451,"detail":"x","status":""}')
  assert.equal(parsed.status, 'Unavailable For Legal Reasons')
  assert.equal(
    MicroError.from(Object.assign(new Error('gone'), { name: 'AbortError' })).status,
    'Client Closed Request',
  )
})
