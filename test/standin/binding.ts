import { paramError } from './envelope.js';

/**
 * gin's ShouldBindJSON on top of encoding/json and go-playground/validator, reduced to what
 * Cloudreve's services use: case-insensitive keys (the last matching key wins), a wrong JSON
 * type → "JSON marshall error", unreadable JSON → "Parameter error", and the first failing rule in
 * struct-field order → "<Field> <rule text>" (routers/controllers/main.go `ParamErrorMsg`).
 */

const fieldNames: Readonly<Record<string, string>> = {
  UserName: 'Email',
  Password: 'Password',
  Path: 'Path',
  SourceID: 'Source resource',
  URL: 'URL',
  Nick: 'Nickname',
};

const ruleTexts = { required: 'cannot be empty', min: 'too short', max: 'too long', email: 'format error' } as const;

export interface StringRules {
  readonly required?: boolean;
  /** In characters (runes), like the validator. */
  readonly min?: number;
  readonly max?: number;
  readonly email?: boolean;
}

const extra = '\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF';
const atom = `[A-Za-z0-9!#$%&'*+\\-/=?^_\`{|}~${extra}]+`;
const label = `[A-Za-z0-9${extra}](?:[A-Za-z0-9\\-~${extra}]*[A-Za-z0-9${extra}])?`;
const topLabel = `[A-Za-z${extra}](?:[A-Za-z0-9\\-~${extra}]*[A-Za-z${extra}])?`;
/** The validator's `email` rule without quoted local parts. */
const emailPattern = new RegExp(`^${atom}(?:\\.${atom})*@(?:${label}\\.)+${topLabel}\\.?$`);

interface BindState {
  typeError: boolean;
  invalid: string | null;
}

export class Binder {
  private constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    private readonly state: BindState,
  ) {}

  /** Decodes a request body; a syntax error or an empty body is thrown at once, as gin does. */
  static parse(text: string): Binder {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw paramError('Parameter error');
    }
    const state: BindState = { typeError: false, invalid: null };
    return new Binder(Binder.#asObject(value, state), state);
  }

  static #asObject(value: unknown, state: BindState): Readonly<Record<string, unknown>> {
    if (value === null || value === undefined) return {};
    if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    state.typeError = true;
    return {};
  }

  #lookup(key: string): unknown {
    const folded = key.toLowerCase();
    let found: unknown;
    for (const [k, v] of Object.entries(this.fields)) {
      if (k === key || k.toLowerCase() === folded) found = v;
    }
    return found ?? null;
  }

  #typed<T>(key: string, zero: T, accept: (v: unknown) => v is T): T {
    const value = this.#lookup(key);
    if (value === null) return zero;
    if (accept(value)) return value;
    this.state.typeError = true;
    return zero;
  }

  #fail(goField: string, rule: keyof typeof ruleTexts): void {
    this.state.invalid ??= `${fieldNames[goField] ?? goField} ${ruleTexts[rule]}`;
  }

  string(key: string, goField: string, rules: StringRules = {}): string {
    const value = this.#typed(key, '', (v): v is string => typeof v === 'string');
    const length = [...value].length;
    if (rules.required === true && value === '') this.#fail(goField, 'required');
    else if (rules.min !== undefined && length < rules.min) this.#fail(goField, 'min');
    else if (rules.max !== undefined && length > rules.max) this.#fail(goField, 'max');
    else if (rules.email === true && !emailPattern.test(value)) this.#fail(goField, 'email');
    return value;
  }

  /** A Go `uint64`: negative or fractional numbers are type errors. */
  uint(key: string): number {
    return this.#typed(key, 0, (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0);
  }

  int(key: string): number {
    return this.#typed(key, 0, (v): v is number => typeof v === 'number' && Number.isInteger(v));
  }

  bool(key: string): boolean {
    return this.#typed(key, false, (v): v is boolean => typeof v === 'boolean');
  }

  strings(key: string): string[] {
    return this.#typed(key, [], (v): v is string[] => Array.isArray(v) && v.every((e) => typeof e === 'string'));
  }

  object(key: string): Binder {
    return new Binder(Binder.#asObject(this.#lookup(key), this.state), this.state);
  }

  /** Throws the error gin would have answered with, if any. */
  finish(): void {
    if (this.state.typeError) throw paramError('JSON marshall error');
    if (this.state.invalid !== null) throw paramError(this.state.invalid);
  }
}
