/**
 * The SOQL side of the fake Salesforce: runs parsed queries (soql.ts) over the stored records,
 * follows one relationship per field, and hands results out in batches behind
 * `nextRecordsUrl` locators, with Salesforce's INVALID_TYPE / INVALID_FIELD errors.
 */
import type { FakeReply, FakeRequest } from './fake-http.js';
import { RELATIONSHIPS, type SObjectType, type SRecord } from './salesforce-data.js';
import { attributes, sfError, typeOf } from './salesforce-wire.js';
import { parseSoql, satisfies, soqlError } from './soql.js';

/** Runs queries and serves their later batches. */
export interface SoqlEngine {
  /** `GET …/query?q=`. */
  query(req: FakeRequest, version: string): FakeReply;
  /** `GET …/query/{locator}`. */
  next(locator: string, version: string): FakeReply;
}

/** Creates the query engine over the org's records. */
export function createSoqlEngine(
  records: ReadonlyMap<string, readonly SRecord[]>,
  batchSize: number,
): SoqlEngine {
  const cursors = new Map<string, Record<string, unknown>[]>();
  let nextCursor = 1;

  /** A field of a record, following one relationship (`Account.Name`). */
  function fieldValue(type: SObjectType, record: SRecord, field: string): unknown {
    const [head, tail] = field.split('.', 2);
    if (tail === undefined)
      return record[type.fields.find((f) => f.toLowerCase() === field.toLowerCase()) ?? field];
    const rel = RELATIONSHIPS[head ?? ''];
    const target = records.get(rel?.type ?? '')?.find((r) => r['Id'] === record[rel?.field ?? '']);
    return target?.[tail];
  }

  function knownField(type: SObjectType, field: string): boolean {
    const [head, tail] = field.split('.', 2);
    if (tail === undefined) return type.fields.some((f) => f.toLowerCase() === field.toLowerCase());
    const rel = RELATIONSHIPS[head ?? ''];
    return (
      rel !== undefined &&
      type.fields.includes(rel.field) &&
      (typeOf(rel.type)?.fields.includes(tail) ?? false)
    );
  }

  /** Runs `q` and answers its first batch. */
  function query(req: FakeRequest, version: string): FakeReply {
    const q = req.query.get('q') ?? '';
    const parsed = parseSoql(q);
    if (!parsed.ok) return { status: 400, json: [parsed.error] };
    const { query: soql, tokens } = parsed;
    const type = typeOf(soql.from);
    const columnOf = (text: string) => tokens.find((t) => t.text === text)?.column ?? 1;
    if (type === undefined) {
      return {
        status: 400,
        json: [
          soqlError(
            'INVALID_TYPE',
            q,
            columnOf(soql.from),
            `sObject type '${soql.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
          ),
        ],
      };
    }
    const used = [
      ...soql.fields,
      ...soql.where.map((w) => w.field),
      ...(soql.orderBy ? [soql.orderBy.field] : []),
    ];
    const unknown = used.find((f) => !knownField(type, f));
    if (unknown !== undefined) {
      return {
        status: 400,
        json: [
          soqlError(
            'INVALID_FIELD',
            q,
            columnOf(unknown),
            `No such column '${unknown}' on entity '${type.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
          ),
        ],
      };
    }
    let rows = (records.get(type.name) ?? []).filter((r) =>
      soql.where.every((w) => satisfies(fieldValue(type, r, w.field), w)),
    );
    if (soql.orderBy) {
      const { field, desc } = soql.orderBy;
      rows = [...rows].sort((a, b) => {
        const x = fieldValue(type, a, field) as string | number | null;
        const y = fieldValue(type, b, field) as string | number | null;
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (desc ? -1 : 1);
      });
    }
    rows = rows.slice(
      soql.offset ?? 0,
      soql.limit === undefined ? undefined : (soql.offset ?? 0) + soql.limit,
    );
    const shaped = rows.map((r) => {
      const out: Record<string, unknown> = { attributes: attributes(type.name, r['Id'], version) };
      for (const field of soql.fields) {
        const [head, tail] = field.split('.', 2);
        if (tail === undefined) {
          out[type.fields.find((f) => f.toLowerCase() === field.toLowerCase()) ?? field] =
            fieldValue(type, r, field);
        } else {
          const rel = RELATIONSHIPS[head ?? ''];
          const nested = (out[head ?? ''] ?? {
            attributes: attributes(rel?.type ?? '', r[rel?.field ?? ''], version),
          }) as Record<string, unknown>;
          nested[tail] = fieldValue(type, r, field);
          out[head ?? ''] = r[rel?.field ?? ''] === null ? null : nested;
        }
      }
      return out;
    });
    return batch(shaped, 0, `01g5g00000${String(nextCursor++).padStart(5, '0')}AAA`, version);
  }

  /** One batch of a result set, remembering the rest under a query locator. */
  function batch(
    rows: Record<string, unknown>[],
    offset: number,
    cursorId: string,
    version: string,
  ): FakeReply {
    const slice = rows.slice(offset, offset + batchSize);
    const done = offset + batchSize >= rows.length;
    if (!done) cursors.set(cursorId, rows);
    return {
      status: 200,
      json: {
        totalSize: rows.length,
        done,
        ...(done
          ? {}
          : {
              nextRecordsUrl: `/services/data/v${version}/query/${cursorId}-${offset + batchSize}`,
            }),
        records: slice,
      },
    };
  }

  return {
    query,
    next(locator, version) {
      const match = /^(.+)-(\d+)$/.exec(locator);
      const rows = match ? cursors.get(match[1] ?? '') : undefined;
      if (match === null || rows === undefined) {
        return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      }
      return batch(rows, Number(match[2]), match[1] ?? '', version);
    },
  };
}
