import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from './errors.js'
import { scrubPaths } from './scrub.js'

describe('absolute paths in error details', () => {
  test('are cut to the file name; URLs, ratios and relative paths are kept', () => {
    const cases: [string, string][] = [
      [
        "ENOENT: no such file or directory, open '/home/me/app/secret.json'",
        "ENOENT: no such file or directory, open '.../secret.json'",
      ],
      [
        'Cannot find module /srv/app/x.js imported from /srv/app/main.js',
        'Cannot find module .../x.js imported from .../main.js',
      ],
      ['at file:///home/me/app/x.js:10:5', 'at .../x.js:10:5'],
      [
        "EACCES: permission denied, open 'C:\\Users\\me\\key.pem'",
        "EACCES: permission denied, open '.../key.pem'",
      ],
      ['(/var/lib/data/db) [/tmp/a/b]', '(.../db) [.../b]'],
      [
        'see https://example.com/docs/errors and http://[::1]:80/a/b',
        'see https://example.com/docs/errors and http://[::1]:80/a/b',
      ],
      ['a/b, 1/2, and/or ./rel/path ../up/one', 'a/b, 1/2, and/or ./rel/path ../up/one'],
      ['no slash at all', 'no slash at all'],
    ]
    for (const [text, expected] of cases) assert.equal(scrubPaths(text), expected)
    assert.equal(scrubPaths(scrubPaths(cases[0]?.[0] as string)), cases[0]?.[1])
  })

  test('on the wire only: toJSON scrubs, the local detail keeps the path for logs', () => {
    const error = MicroError.from(
      new Error("ENOENT: no such file or directory, open '/etc/app/conf.json'"),
      'svc',
    )
    assert.equal(error.code, 500)
    assert.match(error.detail, /\/etc\/app\/conf.json/)
    assert.equal(error.toJSON().detail, "ENOENT: no such file or directory, open '.../conf.json'")
    assert.ok(!JSON.stringify(error).includes('/etc/app'))
  })
})
