import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { formatOf, parseConfigText } from './file-format.js'

const detail = (text: string, format: 'json' | 'yaml' | 'toml') => {
  try {
    parseConfigText(text, format, '/etc/app/c')
  } catch (error) {
    assert.ok(error instanceof MicroError && error.code === 400)
    return error.detail
  }
  assert.fail('parsed')
}

describe('config file formats', () => {
  test('the format comes from the extension', () => {
    assert.equal(formatOf('a/b.JSON'), 'json')
    assert.equal(formatOf('b.yml'), 'yaml')
    assert.equal(formatOf('b.yaml'), 'yaml')
    assert.equal(formatOf('b.toml'), 'toml')
    assert.throws(() => formatOf('b'), TypeError)
  })

  test('syntax errors name the file, line and column and the reason, never the content', () => {
    assert.equal(
      detail('{\n  "user": "app",\n  "password": s3cret\n}', 'json'),
      "config file /etc/app/c: invalid JSON: line 3, column 15: Unexpected token 's'",
    )
    assert.equal(
      detail('{"a": 1,}', 'json'),
      'config file /etc/app/c: invalid JSON: line 1, column 9: Expected double-quoted property name',
    )
    assert.equal(
      detail('{"a":\n  tru\n}', 'json'),
      "config file /etc/app/c: invalid JSON: line 2, column 3: Unexpected token '\\n'",
    )
    const yaml = detail('user: app\npassword: [s3cret\n', 'yaml')
    assert.match(yaml, /^config file \/etc\/app\/c: invalid YAML: line \d+, column \d+: \S/)
    const toml = detail('user = "app"\npassword = s3cret\n', 'toml')
    assert.match(toml, /^config file \/etc\/app\/c: invalid TOML: line 2, column \d+: invalid value$/)
    for (const text of [yaml, toml]) assert.ok(!text.includes('s3cret'), text)
  })

  test('YAML keeps strings that look like other types in YAML 1.1 as strings', () => {
    assert.deepEqual(parseConfigText('a: yes\nb: 0x10\nc: 2024-01-01\n', 'yaml', 'f'), {
      a: 'yes',
      b: 16,
      c: '2024-01-01',
    })
  })
})
