/**
 * A small SOQL subset for the fake Salesforce:
 *   SELECT field[, field…] FROM Type [WHERE cond [AND cond…]] [ORDER BY field [ASC|DESC]]
 *   [LIMIT n] [OFFSET n]
 * where a field may follow one relationship (`Account.Name`) and a condition is
 * `field (=|!=|<|>|<=|>=|LIKE) literal` or `field IN (literal, …)`. Errors carry Salesforce's
 * codes and its caret-pointing message format.
 */

/** A comparison of a WHERE clause. */
export interface SoqlCondition {
  field: string;
  op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like' | 'in';
  values: (string | number | boolean | null)[];
}

/** A parsed query. */
export interface SoqlQuery {
  fields: string[];
  from: string;
  where: SoqlCondition[];
  orderBy?: { field: string; desc: boolean };
  limit?: number;
  offset?: number;
}

/** A query Salesforce would refuse: its error code and message. */
export interface SoqlError {
  errorCode: 'MALFORMED_QUERY' | 'INVALID_TYPE' | 'INVALID_FIELD';
  message: string;
}

interface Token {
  text: string;
  column: number;
}

/** Salesforce's message layout: the query, a caret under the column, and the reason. */
export function soqlError(
  errorCode: SoqlError['errorCode'],
  query: string,
  column: number,
  reason: string,
): SoqlError {
  return {
    errorCode,
    message: `\n${query}\n${' '.repeat(Math.max(0, column - 1))}^\nERROR at Row:1:Column:${column}\n${reason}`,
  };
}

/** Parses a query; type and field names are checked by the caller. */
export function parseSoql(
  query: string,
): { ok: true; query: SoqlQuery; tokens: Token[] } | { ok: false; error: SoqlError } {
  const tokens: Token[] = [];
  for (const m of query.matchAll(/'(?:[^'\\]|\\.)*'|<=|>=|!=|[=<>(),]|[^\s=<>!(),]+/g)) {
    tokens.push({ text: m[0], column: (m.index ?? 0) + 1 });
  }
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const keyword = (word: string) => peek()?.text.toLowerCase() === word;
  const unexpected = (): { ok: false; error: SoqlError } => {
    const t = peek();
    return {
      ok: false,
      error: soqlError(
        'MALFORMED_QUERY',
        query,
        t?.column ?? query.length + 1,
        `unexpected token: '${t?.text ?? '<EOF>'}'`,
      ),
    };
  };
  const literal = (t: Token | undefined): string | number | boolean | null | undefined => {
    if (t === undefined) return undefined;
    if (t.text.startsWith("'")) return t.text.slice(1, -1).replace(/\\(.)/g, '$1');
    const lower = t.text.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    if (lower === 'null') return null;
    if (/^-?\d+(\.\d+)?$/.test(t.text)) return Number(t.text);
    if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/.test(t.text)) return t.text;
    return undefined;
  };

  if (!keyword('select')) return unexpected();
  next();
  const fields: string[] = [];
  for (;;) {
    const t = next();
    if (
      t === undefined ||
      !/^[A-Za-z][A-Za-z0-9_.]*$/.test(t.text) ||
      t.text.toLowerCase() === 'from'
    ) {
      i -= 1;
      return unexpected();
    }
    fields.push(t.text);
    if (peek()?.text === ',') {
      next();
      continue;
    }
    break;
  }
  if (!keyword('from')) return unexpected();
  next();
  const from = next();
  if (from === undefined) return unexpected();
  const parsed: SoqlQuery = { fields, from: from.text, where: [] };

  if (keyword('where')) {
    next();
    for (;;) {
      const field = next();
      const op = next()?.text.toLowerCase();
      if (field === undefined || op === undefined) return unexpected();
      if (op === 'in') {
        if (next()?.text !== '(') return unexpected();
        const values: (string | number | boolean | null)[] = [];
        while (peek()?.text !== ')') {
          const t = next();
          if (t === undefined) return unexpected();
          if (t.text === ',') continue;
          const v = literal(t);
          if (v === undefined) {
            i -= 1;
            return unexpected();
          }
          values.push(v);
        }
        next();
        parsed.where.push({ field: field.text, op: 'in', values });
      } else if (['=', '!=', '<', '>', '<=', '>=', 'like'].includes(op)) {
        const v = literal(peek());
        if (v === undefined) return unexpected();
        next();
        parsed.where.push({ field: field.text, op: op as SoqlCondition['op'], values: [v] });
      } else {
        i -= 1;
        return unexpected();
      }
      if (!keyword('and')) break;
      next();
    }
  }
  if (keyword('order')) {
    next();
    if (!keyword('by')) return unexpected();
    next();
    const field = next();
    if (field === undefined) return unexpected();
    let desc = false;
    if (keyword('asc') || keyword('desc')) desc = next()?.text.toLowerCase() === 'desc';
    parsed.orderBy = { field: field.text, desc };
  }
  if (keyword('limit')) {
    next();
    const n = Number(next()?.text);
    if (!Number.isInteger(n) || n < 0) return unexpected();
    parsed.limit = n;
  }
  if (keyword('offset')) {
    next();
    const n = Number(next()?.text);
    if (!Number.isInteger(n) || n < 0) return unexpected();
    parsed.offset = n;
  }
  if (i < tokens.length) return unexpected();
  return { ok: true, query: parsed, tokens };
}

/** Whether a value passes a condition (LIKE with `%` and `_`, case-insensitive like SOQL). */
export function satisfies(value: unknown, cond: SoqlCondition): boolean {
  const v = value as string | number | boolean | null | undefined;
  const first = cond.values[0];
  const cmp = (a: unknown, b: unknown) =>
    typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;
  switch (cond.op) {
    case '=':
      return cmp(v ?? null, first);
    case '!=':
      return !cmp(v ?? null, first);
    case 'in':
      return cond.values.some((x) => cmp(v ?? null, x));
    case 'like': {
      if (typeof v !== 'string' || typeof first !== 'string') return false;
      const pattern = first
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*')
        .replace(/_/g, '.');
      return new RegExp(`^${pattern}$`, 'is').test(v);
    }
    default: {
      if (v === null || v === undefined || first === null || first === undefined) return false;
      const a = v as string | number;
      const b = first as string | number;
      if (cond.op === '<') return a < b;
      if (cond.op === '>') return a > b;
      if (cond.op === '<=') return a <= b;
      return a >= b;
    }
  }
}
