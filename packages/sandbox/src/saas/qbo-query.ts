/**
 * A subset of the QuickBooks Online query language for the fake:
 *   select * | count(*) from Entity [where Field op 'value' [and …]]
 *   [orderby Field [asc|desc]] [startposition n] [maxresults n]
 * with op one of = < > <= >= like in. Keywords are case-insensitive; strings are single-quoted
 * with `\'` escapes. Errors carry QuickBooks' codes and wording.
 */

/** A condition of a where clause. */
export interface QboCondition {
  field: string;
  op: '=' | '<' | '>' | '<=' | '>=' | 'like' | 'in';
  values: string[];
}

/** A parsed query. */
export interface QboQuery {
  count: boolean;
  entity: string;
  where: QboCondition[];
  orderBy?: { field: string; desc: boolean };
  startPosition: number;
  maxResults: number;
}

/** Why a query was refused: QuickBooks' code and detail. */
export interface QboQueryError {
  code: '4000' | '4001';
  message: string;
  detail: string;
}

/** QuickBooks' cap on `maxresults`. */
export const MAX_RESULTS = 1000;

/** Parses a query; entity and field names are checked by the caller. */
export function parseQboQuery(
  text: string,
): { ok: true; query: QboQuery } | { ok: false; error: QboQueryError } {
  const tokens: { text: string; column: number }[] = [];
  for (const m of text.matchAll(/'(?:[^'\\]|\\.)*'|<=|>=|[=<>(),*]|count\(\*\)|[^\s=<>(),*']+/gi)) {
    tokens.push({ text: m[0], column: (m.index ?? 0) + 1 });
  }
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const keyword = (word: string) => peek()?.text.toLowerCase() === word;
  const parseError = () => {
    const t = peek();
    return {
      ok: false as const,
      error: {
        code: '4000' as const,
        message: 'Error parsing query',
        detail: `QueryParserError: Encountered " <IDENTIFIER> "${t?.text ?? ''} "" at line 1, column ${t?.column ?? text.length + 1}.`,
      },
    };
  };
  const unquote = (t: string) => t.slice(1, -1).replace(/\\(.)/g, '$1');

  if (!keyword('select')) return parseError();
  next();
  let count = false;
  if (peek()?.text === '*') next();
  else if (peek()?.text.toLowerCase() === 'count(*)') {
    next();
    count = true;
  } else return parseError();
  if (!keyword('from')) return parseError();
  next();
  const entity = next()?.text;
  if (entity === undefined) return parseError();
  const query: QboQuery = { count, entity, where: [], startPosition: 1, maxResults: 100 };

  if (keyword('where')) {
    next();
    for (;;) {
      const field = next()?.text;
      const op = next()?.text.toLowerCase();
      if (field === undefined || op === undefined) return parseError();
      if (op === 'in') {
        if (next()?.text !== '(') return parseError();
        const values: string[] = [];
        while (peek()?.text !== ')') {
          const t = next();
          if (t === undefined) return parseError();
          if (t.text === ',') continue;
          if (!t.text.startsWith("'")) {
            i -= 1;
            return parseError();
          }
          values.push(unquote(t.text));
        }
        next();
        query.where.push({ field, op: 'in', values });
      } else if (['=', '<', '>', '<=', '>=', 'like'].includes(op)) {
        const value = peek();
        if (value === undefined || !value.text.startsWith("'")) return parseError();
        next();
        query.where.push({ field, op: op as QboCondition['op'], values: [unquote(value.text)] });
      } else {
        i -= 1;
        return parseError();
      }
      if (!keyword('and')) break;
      next();
    }
  }
  if (keyword('orderby')) {
    next();
    const field = next()?.text;
    if (field === undefined) return parseError();
    let desc = false;
    if (keyword('asc') || keyword('desc')) desc = next()?.text.toLowerCase() === 'desc';
    query.orderBy = { field, desc };
  }
  for (const [word, key] of [
    ['startposition', 'startPosition'],
    ['maxresults', 'maxResults'],
  ] as const) {
    if (!keyword(word)) continue;
    next();
    const n = Number(next()?.text);
    if (!Number.isInteger(n) || n < 1) return parseError();
    query[key] = n;
  }
  if (i < tokens.length) return parseError();
  if (query.maxResults > MAX_RESULTS) {
    return {
      ok: false,
      error: {
        code: '4001',
        message: 'Invalid query',
        detail: `QueryValidationError: value ${query.maxResults} is too large. Max allowed value is: ${MAX_RESULTS}`,
      },
    };
  }
  return { ok: true, query };
}

/** Whether a field value passes a condition; numbers compare as numbers, text case-insensitively. */
export function passes(value: unknown, cond: QboCondition): boolean {
  const asNumber = typeof value === 'number';
  const norm = (v: unknown) =>
    asNumber
      ? Number(v)
      : typeof v === 'string' || typeof v === 'boolean'
        ? String(v).toLowerCase()
        : '';
  const left = norm(value);
  const right = cond.values.map(norm);
  switch (cond.op) {
    case '=':
      return left === right[0];
    case 'in':
      return right.includes(left);
    case 'like': {
      const pattern = String(right[0] ?? '')
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*');
      return new RegExp(`^${pattern}$`, 's').test(String(left));
    }
    case '<':
      return (right[0] ?? '') > left;
    case '>':
      return left > (right[0] ?? '');
    case '<=':
      return left <= (right[0] ?? '');
    case '>=':
      return left >= (right[0] ?? '');
  }
}
