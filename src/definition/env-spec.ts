import type { InferOutput, StandardSchema } from '../server/standard-schema.js'

/** The value types an environment variable can be declared with. */
export type EnvType = 'string' | 'int' | 'bool' | 'duration' | 'url'

interface VarOptions {
  /** Unset is fine: the value is undefined (or the default). */
  optional?: boolean
  /** Never print the value (names with SECRET, PASSWORD, TOKEN, KEY... are secret anyway). */
  secret?: boolean
  description?: string
}

/** A variable with options: `{ type: 'int', default: 50 }`. */
export interface EnvVarOptions<T extends EnvType = EnvType> extends VarOptions {
  type: T
  default?: EnvTypeValue<T>
}

/** One of a fixed set of values: `{ type: 'enum', values: ['dev', 'prod'] }`. */
export interface EnvEnumOptions<V extends string = string> extends VarOptions {
  type: 'enum'
  values: readonly V[]
  default?: V
}

/** How one variable is declared: a type name, or a type with options. */
export type EnvVar = EnvType | EnvVarOptions | EnvEnumOptions

/** The environment a service declares: variable names to their declaration. */
export type EnvSpec = Readonly<Record<string, EnvVar>>

/**
 * What a type name parses to: `int` and `duration` (milliseconds) are numbers, `bool` a
 * boolean, `string` and `url` (checked) strings.
 */
export type EnvTypeValue<T extends EnvType> = T extends 'int' | 'duration'
  ? number
  : T extends 'bool'
    ? boolean
    : string

type VarValue<V> = V extends EnvType
  ? EnvTypeValue<V>
  : V extends { type: 'enum'; values: readonly (infer E)[] }
    ? E
    : V extends { type: infer T extends EnvType }
      ? EnvTypeValue<T>
      : never

type Absent<V> = V extends { optional: true } ? (V extends { default: unknown } ? never : undefined) : never

/** The typed environment handlers get, from an EnvSpec or a Standard Schema's output. */
export type InferEnv<S> = 0 extends 1 & S
  ? Readonly<Record<string, any>>
  : [S] extends [undefined]
    ? Readonly<Record<string, string>>
    : S extends StandardSchema
      ? InferOutput<S>
      : { readonly [K in keyof S]: VarValue<S[K]> | Absent<S[K]> }
