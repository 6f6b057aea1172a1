import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { defineService, rpcHandler } from '../../definition/index.js'
import { notFound } from '../../errors/errors.js'
import { testService } from '../../testing/harness.js'

/**
 * The /metrics output checked by a real parser: `promtool check metrics` (Prometheus' own
 * parser and linter, from Debian's `prometheus` package, installed by .ci/run). Without
 * promtool this skips locally and fails in CI.
 */

/** prom-client's process metrics that promtool's linter dislikes (gauges named `_total`): not ours to rename. */
const PROM_CLIENT_LINT = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
])

function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 })
  if (run.error) throw run.error
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

function hasPromtool(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
}

const awkward = defineService({
  rpc: () =>
    rpcHandler(
      {
        Ok: async () => 'ok',
        Missing: async () => {
          throw notFound('awkward', 'nothing here')
        },
      },
      { name: 'Awkward' },
    ),
  http: ({ features }) => {
    const metrics = features.metrics
    const odd = metrics?.counter('awkward_values_total', 'Help with a \\ backslash\nand a new line.')
    const level = metrics?.gauge('awkward_level', 'Any number a gauge can hold.', ['case'])
    const sizes = metrics?.histogram('awkward_size_bytes', 'Sizes.', [1024, 10, 100])
    return () => {
      for (const value of ['quote " here', 'back\\slash', 'new\nline', 'ünïcødé ✓', '', '{}=,'])
        odd?.inc({ value })
      level?.set({ case: 'negative' }, -1.5e-9)
      level?.set({ case: 'big' }, 1e300)
      level?.set({ case: 'infinite' }, Number.POSITIVE_INFINITY)
      level?.set({ case: 'minus infinite' }, Number.NEGATIVE_INFINITY)
      level?.set({ case: 'not a number' }, Number.NaN)
      for (const size of [0, 5, 50, 500, 5000]) sizes?.observe({}, size)
      return new Response('ok')
    }
  },
})

describe('metrics text format', () => {
  test('what /metrics serves parses and lints clean with promtool', async (t) => {
    if (!hasPromtool()) {
      if (process.env.CI === 'true')
        assert.fail("promtool is missing: .ci/run installs Debian's prometheus package")
      t.skip('promtool not installed (apt-get install prometheus)')
      return
    }
    const service = await testService(awkward, {
      config: { name: 'awkward', version: '1.0.0', types: ['rpc', 'http'], features: { metrics: {} } },
    })
    try {
      await service.call('Awkward.Ok')
      await assert.rejects(service.call('Awkward.Missing'), { code: 404 })
      await service.http('GET', '/awkward/items/123')
      await service.http('POST', '/awkward/a%22b/%0A')
      const text = (await service.http('GET', '/metrics')).text
      for (const family of [
        'micro_requests_total',
        'awkward_values_total',
        'awkward_level',
        'awkward_size_bytes',
      ])
        assert.match(text, new RegExp(`^# TYPE ${family} `, 'm'))
      const { status, output } = promtool(text)
      // 0: clean; 3: parsed, with lint problems (each listed); 1: did not parse.
      assert.ok(status === 0 || status === 3, `promtool exit ${status}:\n${output}`)
      const problems = output.split('\n').filter((line) => line.trim() !== '')
      const ours = problems.filter((line) => !PROM_CLIENT_LINT.has(line.split(' ', 1)[0] as string))
      assert.deepEqual(ours, [], `lint problems in micro-ts's or the service's metrics:\n${output}`)
    } finally {
      await service.stop()
    }
  })

  test('promtool does refuse a malformed exposition (the check above can fail)', (t) => {
    if (!hasPromtool()) {
      if (process.env.CI === 'true')
        assert.fail("promtool is missing: .ci/run installs Debian's prometheus package")
      t.skip('promtool not installed (apt-get install prometheus)')
      return
    }
    const broken = promtool('# TYPE x_total counter\nx_total{a="unterminated} 1\n')
    assert.equal(broken.status, 1, broken.output)
    assert.match(broken.output, /parsing error/)
    const linted = promtool('# HELP y_total Y.\n# TYPE y_total gauge\ny_total 1\n')
    assert.equal(linted.status, 3, linted.output)
    assert.match(linted.output, /y_total non-counter metrics should not have "_total" suffix/)
  })
})
