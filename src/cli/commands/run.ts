import { runService } from '../../definition/run.js'
import { START_GATE_VARIABLE } from '../../platform/runtime/instance.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { DETACHED_HELP, DETACHED_OPTIONS, detachedOnly, runDetached } from './run-detached.js'
import { DEV_HELP, DEV_OPTIONS, devOnly, runDevLoop } from './run-dev.js'

/** `micro run --help` */
export const RUN_HELP = `Usage: micro run [options] [folders...]

The dev loop: runs each service folder (a service.toml and its module), or the services of
the project file (micro.toml or micro.json here), as its own process, each once the
services it depends on are ready; serves the gateway on 127.0.0.1:8080; prints the URLs;
then reloads a service when its files change: the new version must compile (and
type-check, with a tsconfig.json) and become ready before the old one stops, so a broken
change leaves the old one serving. Ctrl-C stops everything gracefully (twice: at once).

  micro run                        the project file here, else this service folder,
                                   else every folder here with a service.toml
  micro run ./users ./orders       these services
  micro run --env prod             the project file's prod variables
  micro run --inline ./orders      one service in this process: no dev loop (production)
  micro run -d ./orders --instances 2 --env REGION=eu   (on the platform's runtime)

Options:
${DEV_HELP}
  --inline                  run one folder in this process, without the dev loop (no
                            watching, no gateway, no restarts): what the dev loop and the
                            runtime start for each service; exit code: 0 after a signal,
                            a script's own code, 1 on a problem
  --config <path>           the service.toml to use (default <folder>/service.toml)
${DETACHED_HELP}
${GLOBAL_HELP}`

/** `micro run`: resolves with the exit code once everything has stopped. */
export async function runCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
  err: (text: string) => void = (t) => console.error(t),
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    config: { type: 'string' },
    inline: { type: 'boolean' },
    ...DEV_OPTIONS,
    ...DETACHED_OPTIONS,
  })
  if (global.help) {
    out(RUN_HELP)
    return 0
  }
  if (values.detach === true) return runDetached(positionals, values, global, out)
  // --env is also the dev loop's (an environment name), so it is checked there.
  const needsDetach = detachedOnly({ ...values, env: undefined })
  if (needsDetach) throw new UsageError(`--${needsDetach} goes with -d (run on the platform's runtime)`)
  if (values.inline !== true) return runDevLoop(positionals, values, global, out, err)
  const devFlag = devOnly(values)
  if (devFlag) throw new UsageError(`--${devFlag} is an option of the dev loop, not of --inline`)
  if (positionals.length !== 1) {
    throw new UsageError(
      `run --inline needs one service folder, e.g. micro run --inline ./orders (got ${positionals.length} arguments)`,
    )
  }
  // Global options reach the service the way its own MICRO_* variables would.
  const env: NodeJS.ProcessEnv = { ...process.env, MICRO_NAMESPACE: global.namespace }
  if (global.registry) env.MICRO_REGISTRY = global.registry
  if (global.registryAddress) env.MICRO_REGISTRY_ADDRESS = global.registryAddress
  const stopWatch = env.MICRO_STOP_WITH_PARENT === '1' ? stopWithParent() : undefined
  // The dev loop runs TypeScript bundled: map stack traces back to it (from here on, so the
  // CLI's own modules, loaded already, cost nothing).
  if (env.MICRO_SOURCE_MAPS === '1') process.setSourceMapsEnabled(true)
  try {
    return await runService({
      target: positionals[0] as string,
      config: values.config as string | undefined,
      env,
      out,
      err,
      ...(env[START_GATE_VARIABLE] === 'stdin' ? { startGate: startLineOnStdin } : {}),
    })
  } finally {
    if (stopWatch) clearInterval(stopWatch)
  }
}

/** The start gate of a process the dev loop (or the runtime) holds: `start` on stdin opens it; end of input, not. */
function startLineOnStdin(): Promise<boolean> {
  return new Promise((resolve) => {
    let text = ''
    const done = (open: boolean) => {
      process.stdin.off('data', onData).off('end', onEnd).off('error', onEnd)
      process.stdin.pause()
      resolve(open)
    }
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      if (text.includes('\n')) done(text.split('\n')[0]?.trim() === 'start')
    }
    const onEnd = () => done(text.trim() === 'start')
    process.stdin.on('data', onData).once('end', onEnd).once('error', onEnd)
  })
}

/**
 * A service the dev loop started stops itself (SIGTERM: a graceful stop) when the dev loop
 * is gone without stopping it (killed with SIGKILL): its process group survives it, and
 * would hold its ports and stay registered.
 */
function stopWithParent(): NodeJS.Timeout {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    process.kill(process.pid, 'SIGTERM')
  }, 500)
  timer.unref()
  return timer
}
