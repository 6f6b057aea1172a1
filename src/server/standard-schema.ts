/**
 * The parts of the Standard Schema and Standard JSON Schema specs (standardschema.dev) the
 * server uses: zod, valibot, arktype and others implement them, so any of them can
 * validate requests without an adapter.
 */
export interface StandardSchema<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    /** Validate a value: its parsed output, or the issues. */
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
    /** Standard JSON Schema: present when the library can describe the schema as JSON Schema. */
    readonly jsonSchema?: {
      /** The JSON Schema of the input. */
      readonly input: (options: { readonly target: string }) => Record<string, unknown>
      /** The JSON Schema of the output. */
      readonly output: (options: { readonly target: string }) => Record<string, unknown>
    }
  }
}

/** What a Standard Schema validator returns: the parsed value, or its issues. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> }

/** One problem a Standard Schema validator found: its message and where in the value. */
export interface StandardIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
}

/** The type a schema produces after validation. */
export type InferOutput<S> = S extends StandardSchema<unknown, infer O> ? O : unknown
