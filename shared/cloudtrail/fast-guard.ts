import type { z } from 'zod/mini';

/** A type guard that checks a value in place: no copy, no issue objects, just true or false. */
export type Guard<T> = (value: unknown) => value is T;

interface ZodDefLike {
  type: string;
  innerType?: ZodLike;
  shape?: Record<string, ZodLike>;
  catchall?: ZodLike;
  options?: ZodLike[];
  keyType?: ZodLike;
  valueType?: ZodLike;
  checks?: unknown[];
}
interface ZodLike {
  _zod: { def: ZodDefLike };
}

/**
 * Emits JavaScript statements that `return false` unless `value` (a variable name) has the shape of `def`.
 * Only structural schema types are supported; anything else throws at module load, never at run time.
 */
function emit(def: ZodDefLike, value: string, path: string, fresh: () => string): string {
  if (def.checks && def.checks.length > 0) {
    // Refinements (lengths, formats …) are not compiled; the guarded schema must stay purely structural.
    throw new Error(`fast guard: ${path} has checks, which the fast guard does not compile`);
  }
  switch (def.type) {
    case 'string':
    case 'boolean':
      return `if (typeof ${value} !== '${def.type}') return false;`;
    case 'number':
      return `if (typeof ${value} !== 'number' || !Number.isFinite(${value})) return false;`;
    case 'unknown':
    case 'any':
      return '';
    case 'null':
      return `if (${value} !== null) return false;`;
    case 'optional':
      return `if (${value} !== undefined) { ${emit(def.innerType!._zod.def, value, path, fresh)} }`;
    case 'nullable':
      return `if (${value} !== null) { ${emit(def.innerType!._zod.def, value, path, fresh)} }`;
    case 'union': {
      // Each option as a small inner function: "does any option accept it?"
      const options = def.options!.map(
        (o, i) => `((${value}) => { ${emit(o._zod.def, value, `${path}|${i}`, fresh)} return true; })(${value})`,
      );
      return `if (!(${options.join(' || ')})) return false;`;
    }
    case 'record': {
      const key = def.keyType!._zod.def.type;
      const item = def.valueType!._zod.def.type;
      if (key !== 'string' || (item !== 'unknown' && item !== 'any')) {
        throw new Error(`fast guard: ${path}: only record(string, unknown) is supported`);
      }
      return `if (typeof ${value} !== 'object' || ${value} === null || Array.isArray(${value})) return false;`;
    }
    case 'object': {
      const catchall = def.catchall?._zod.def.type;
      if (catchall !== 'unknown' && catchall !== 'any') {
        // zod strips unknown keys of a plain object (or rejects them, strict); a guard cannot mirror a copy.
        throw new Error(`fast guard: ${path}: only loose objects (looseObject) are supported`);
      }
      const lines = [`if (typeof ${value} !== 'object' || ${value} === null || Array.isArray(${value})) return false;`];
      for (const [name, schema] of Object.entries(def.shape!)) {
        const field = fresh();
        lines.push(`const ${field} = ${value}[${JSON.stringify(name)}];`);
        lines.push(emit(schema._zod.def, field, `${path}.${name}`, fresh));
      }
      return lines.join('\n');
    }
    default:
      throw new Error(`fast guard: ${path}: unsupported schema type ${def.type}`);
  }
}

/**
 * Compiles a structural zod schema (loose objects, strings, booleans, numbers, optional, nullable, unions,
 * record(string, unknown)) into one straight-line predicate.
 *
 * Why: the reader validates every record of every log file. `safeParse` builds a fresh copy of each record and its
 * nested objects — measured at ~2.4 µs per CloudTrail record with zod 4 and ~5.9 µs with zod/mini, i.e. 60–140 % of
 * `JSON.parse` of the same record (~4.2 µs). A closure-per-field guard still took ~0.9 µs; this generated function
 * checks the same shape in place far faster (see bench/). The zod schema stays the single source of truth (types
 * via `z.infer`, documentation, and a test that guard and `safeParse` agree on real and mutated records); the guard
 * is only its fast evaluator, built once at module load from the schema's own definition, the way zod's own JIT
 * builds its object parsers.
 *
 * Property reads are plain `value["name"]`; a hostile `__proto__` key in the JSON is an own data property after
 * JSON.parse, is not in any schema shape, and so is never read.
 */
export function compileGuard<S extends z.ZodMiniType>(schema: S): Guard<z.infer<S>> {
  let counter = 0;
  const fresh = () => `v${counter++}`;
  const body = `${emit((schema as unknown as ZodLike)._zod.def, 'input', '(value)', fresh)}\nreturn true;`;
  return new Function('input', body) as Guard<z.infer<S>>;
}
