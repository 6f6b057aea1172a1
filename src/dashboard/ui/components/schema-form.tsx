import type { JSX } from 'preact'
import { initialValue, propertiesOf, requiredOf, type Schema, typeOf, unwrap } from '../schema.js'

interface FieldProps {
  schema: Schema | undefined
  value: unknown
  onChange: (value: unknown) => void
  /** The field's path, for labels and ids: `address.city`. */
  path: string
  required?: boolean
}

/** A form for a JSON Schema: objects, arrays, enums, booleans, numbers, text; JSON for the rest. */
export function SchemaForm(props: {
  schema: Schema | undefined
  value: unknown
  onChange: (v: unknown) => void
}) {
  return (
    <div class="schema-form">
      <Field schema={props.schema} value={props.value} onChange={props.onChange} path="" />
    </div>
  )
}

function Field({ schema, value, onChange, path, required }: FieldProps): JSX.Element {
  const s = unwrap(schema)
  const type = typeOf(s)
  const id = `f-${path || 'root'}`
  const label = path.split('.').at(-1) || 'request'
  const description = typeof s?.description === 'string' ? s.description : undefined
  const head = path ? (
    <label for={id}>
      {label}
      {required ? (
        <span class="required" title="required">
          *
        </span>
      ) : null}
      {description ? <span class="hint"> {description}</span> : null}
    </label>
  ) : null

  if (type === 'object' && propertiesOf(s).length > 0) {
    const v = (value && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<
      string,
      unknown
    >
    const needed = requiredOf(s)
    const body = propertiesOf(s).map(([name, child]) => (
      <Field
        key={name}
        schema={child}
        value={v[name]}
        required={needed.has(name)}
        path={path ? `${path}.${name}` : name}
        onChange={(next) => {
          const copy = { ...v }
          if (next === undefined) delete copy[name]
          else copy[name] = next
          onChange(copy)
        }}
      />
    ))
    return path ? (
      <fieldset>
        <legend>{head}</legend>
        {body}
      </fieldset>
    ) : (
      <div>{body}</div>
    )
  }

  if (type === 'array') {
    const items = Array.isArray(value) ? value : []
    const itemSchema = s?.items as Schema | undefined
    return (
      <fieldset>
        <legend>{head}</legend>
        {items.map((item, i) => (
          <div class="array-item" key={i}>
            <Field
              schema={itemSchema}
              value={item}
              path={`${path}.${i}`}
              onChange={(next) => onChange(items.map((old, j) => (j === i ? next : old)))}
            />
            <button type="button" class="small" onClick={() => onChange(items.filter((_, j) => j !== i))}>
              remove
            </button>
          </div>
        ))}
        <button type="button" class="small" onClick={() => onChange([...items, initialValue(itemSchema)])}>
          + add {label}
        </button>
      </fieldset>
    )
  }

  let input: JSX.Element
  const clear = (text: string, parse: (t: string) => unknown) =>
    onChange(text === '' && !required ? undefined : parse(text))
  if (type === 'enum') {
    input = (
      <select
        id={id}
        value={value === undefined ? '' : String(value)}
        onChange={(e) => {
          const text = (e.target as HTMLSelectElement).value
          const match = ((s?.enum ?? []) as unknown[]).find((option) => String(option) === text)
          onChange(text === '' ? undefined : match)
        }}
      >
        {required ? null : <option value="">(none)</option>}
        {((s?.enum ?? []) as unknown[]).map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    )
  } else if (type === 'boolean') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange((e.target as HTMLInputElement).checked)}
      />
    )
  } else if (type === 'number' || type === 'integer') {
    input = (
      <input
        id={id}
        type="number"
        step={type === 'integer' ? 1 : 'any'}
        min={s?.minimum as number | undefined}
        max={s?.maximum as number | undefined}
        value={typeof value === 'number' ? value : ''}
        onInput={(e) => clear((e.target as HTMLInputElement).value, Number)}
      />
    )
  } else if (type === 'string') {
    input = (
      <input
        id={id}
        type="text"
        value={typeof value === 'string' ? value : ''}
        placeholder={s?.format ? String(s.format) : ''}
        onInput={(e) => clear((e.target as HTMLInputElement).value, String)}
      />
    )
  } else {
    input = <JsonField id={id} value={value} onChange={onChange} />
  }
  return (
    <div class={`field field-${type}`}>
      {head}
      {input}
    </div>
  )
}

/** A field of any JSON: kept as text until it parses. */
function JsonField({ id, value, onChange }: { id: string; value: unknown; onChange: (v: unknown) => void }) {
  return (
    <textarea
      id={id}
      rows={2}
      class="mono"
      value={value === undefined ? '' : JSON.stringify(value)}
      onChange={(e) => {
        const text = (e.target as HTMLTextAreaElement).value
        try {
          onChange(text.trim() === '' ? undefined : JSON.parse(text))
        } catch {
          ;(e.target as HTMLTextAreaElement).setCustomValidity('not JSON')
        }
      }}
    />
  )
}
