import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  configDirectory,
  configFile,
  currentEnvironment,
  DEFAULT_PLATFORM_ADDRESS,
  platformAddress,
  readCliConfig,
  writeCliConfig,
} from './environments.js'

describe('CLI environments file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'micro-envs-'))
  after(() => rm(dir, { recursive: true, force: true }))
  const env = { MICRO_CONFIG_DIR: join(dir, 'cfg') }

  test('the directory follows MICRO_CONFIG_DIR, then XDG_CONFIG_HOME, then ~/.config', () => {
    assert.equal(configDirectory({ MICRO_CONFIG_DIR: '/x' }), '/x')
    assert.equal(configDirectory({ XDG_CONFIG_HOME: '/y' }), '/y/micro')
    assert.equal(configDirectory({ HOME: '/home/u' }), '/home/u/.config/micro')
  })

  test('a missing file is an empty config; the default platform is the local server', async () => {
    assert.deepEqual(await readCliConfig(env), { environments: {} })
    assert.equal(await platformAddress(undefined, env), DEFAULT_PLATFORM_ADDRESS)
  })

  test('written with mode 0600 and read back; the current environment names the address', async () => {
    await writeCliConfig({ current: 'prod', environments: { prod: { address: 'p.example.com:8081' } } }, env)
    const mode = (await stat(configFile(env))).mode & 0o777
    assert.equal(mode, 0o600)
    const config = await readCliConfig(env)
    assert.deepEqual(currentEnvironment(config), { name: 'prod', address: 'p.example.com:8081' })
    assert.equal(await platformAddress(undefined, env), 'p.example.com:8081')
    assert.equal(await platformAddress(undefined, { ...env, MICRO_PLATFORM: 'e:1' }), 'e:1')
    assert.equal(await platformAddress('f:2', { ...env, MICRO_PLATFORM: 'e:1' }), 'f:2')
    assert.match(await readFile(configFile(env), 'utf8'), /p\.example\.com/)
  })

  test('a broken file is an error that names it, not an empty config', async () => {
    await writeFile(configFile(env), '{not json')
    await assert.rejects(readCliConfig(env), (error: Error) => error.message.includes(configFile(env)))
    await writeFile(configFile(env), '[1]')
    await assert.rejects(readCliConfig(env), /JSON object/)
  })
})
