/**
 * A small JQL subset for the fake Jira: `field op value` clauses joined by AND, with
 * `ORDER BY field [ASC|DESC]`. Fields: project, key, status, assignee, reporter, issuetype
 * (type), priority, parent, summary/text (`~`). Operators: =, !=, ~, IN (…), IS [NOT] EMPTY.
 * Values: quoted strings, bare words, currentUser(). Errors read like Jira's.
 */

/** One condition of a query. */
export interface JqlClause {
  field: string;
  op: '=' | '!=' | '~' | 'in' | 'is empty' | 'is not empty';
  values: string[];
}

/** A parsed query. */
export interface JqlQuery {
  clauses: JqlClause[];
  orderBy?: { field: string; desc: boolean };
}

const FIELDS = new Set([
  'project',
  'key',
  'issuekey',
  'status',
  'assignee',
  'reporter',
  'issuetype',
  'type',
  'priority',
  'parent',
  'summary',
  'text',
]);

/** Parses a JQL query; the error message is Jira's wording. */
export function parseJql(
  input: string,
): { ok: true; query: JqlQuery } | { ok: false; error: string } {
  const tokens = input.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|!=|[=~(),]|[^\s=~!(),]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const unquote = (t: string) => (/^["']/.test(t) ? t.slice(1, -1).replace(/\\(.)/g, '$1') : t);
  const clauses: JqlClause[] = [];
  let orderBy: JqlQuery['orderBy'];

  const expect = (what: string) => ({
    ok: false as const,
    error: `Error in the JQL Query: Expecting ${what} but got '${peek() ?? 'end of query'}'.`,
  });

  while (i < tokens.length) {
    if (peek()?.toLowerCase() === 'order') {
      next();
      if (next()?.toLowerCase() !== 'by') return expect("'by'");
      const field = next();
      if (field === undefined) return expect('a field');
      const dir = peek()?.toLowerCase();
      if (dir === 'asc' || dir === 'desc') next();
      orderBy = { field: field.toLowerCase(), desc: dir === 'desc' };
      if (i < tokens.length)
        return {
          ok: false,
          error: `Error in the JQL Query: Expecting end of query but got '${peek() ?? ''}'.`,
        };
      break;
    }
    const rawField = next();
    if (rawField === undefined) return expect('a field name');
    const field = unquote(rawField).toLowerCase();
    if (!FIELDS.has(field)) {
      return {
        ok: false,
        error: `Field '${unquote(rawField)}' does not exist or you do not have permission to view it.`,
      };
    }
    const rawOp = next();
    const op = rawOp?.toLowerCase();
    if (op === 'is') {
      const not = peek()?.toLowerCase() === 'not';
      if (not) next();
      if (next()?.toLowerCase() !== 'empty') return expect("'EMPTY'");
      clauses.push({ field, op: not ? 'is not empty' : 'is empty', values: [] });
    } else if (op === 'in') {
      if (next() !== '(') return expect("'('");
      const values: string[] = [];
      while (peek() !== ')') {
        const v = next();
        if (v === undefined) return expect("')'");
        if (v !== ',') values.push(unquote(v));
      }
      next();
      clauses.push({ field, op: 'in', values });
    } else if (op === '=' || op === '!=' || op === '~') {
      let value = next();
      if (value === undefined) return expect('a value');
      if (value.toLowerCase() === 'currentuser' && peek() === '(') {
        next();
        next();
        value = 'currentUser()';
      }
      clauses.push({ field, op, values: [unquote(value)] });
    } else {
      return {
        ok: false,
        error: `Error in the JQL Query: Expecting operator but got '${rawOp ?? 'end of query'}'.`,
      };
    }
    const joiner = peek()?.toLowerCase();
    if (joiner === 'and') next();
    else if (joiner === 'or') {
      return {
        ok: false,
        error: 'Error in the JQL Query: OR is outside the JQL subset of this sandbox.',
      };
    } else if (joiner !== undefined && joiner !== 'order') {
      return {
        ok: false,
        error: `Error in the JQL Query: Expecting either 'OR' or 'AND' but got '${peek() ?? ''}'.`,
      };
    }
  }
  return { ok: true, query: orderBy === undefined ? { clauses } : { clauses, orderBy } };
}
