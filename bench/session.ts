/**
 * What every phase of one bench run shares: the failures recorded so far, the machine's
 * busy share before each phase, a quiet check, and `attempt` to run a step so that one
 * failure is reported and the other phases still run.
 */
import { machineBusy } from './proc.js'

/** Failed steps of this run, by name: the message. */
export const errors: Record<string, string> = {}
/** CPU busy share of the machine just before each phase (nothing of ours runs then). */
export const busyBefore: Record<string, number> = {}

/**
 * Sample the machine for half a second before a phase: other processes using the CPU
 * would skew this phase's numbers, so say so next to them.
 */
export async function checkQuiet(phase: string): Promise<void> {
  const busy = await machineBusy(500)
  busyBefore[phase] = busy
  if (busy > 0.1) {
    console.log(
      `  WARNING: the machine was ${(busy * 100).toFixed(0)}% busy before this phase (other processes); numbers may be skewed`,
    )
  }
}

/** Run a phase step; a failure is reported and recorded, and the other phases still run. */
export async function attempt<T>(name: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    errors[name] = message
    console.log(`  ${name} FAILED: ${message.split('\n')[0]}`)
    return undefined
  }
}

/**
 * The phases BENCH_PHASES selects (comma-separated numbers among `all`); `defaults` (all of
 * them unless given) when unset.
 */
export function selectedPhases(
  all: number[],
  env: NodeJS.ProcessEnv = process.env,
  defaults: number[] = all,
): Set<number> {
  const chosen = env.BENCH_PHASES?.split(',')
    .map((p) => Number(p.trim()))
    .filter((p) => all.includes(p))
  return new Set(chosen && chosen.length > 0 ? chosen : defaults)
}
