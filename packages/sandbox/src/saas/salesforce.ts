/**
 * A fake Salesforce REST API for the endpoints the connector uses:
 * - `GET /services/data/vXX.X/limits`;
 * - `GET /services/data/vXX.X/query?q=…` (a SOQL subset, soql.ts) and the
 *   `nextRecordsUrl` batches after it (`batchSize` records each);
 * - `GET|PATCH|DELETE /services/data/vXX.X/sobjects/{type}/{id}`, `POST …/sobjects/{type}`;
 * - `POST /services/oauth2/token`: refresh-token and username-password grants.
 * Auth is an OAuth bearer session; errors are `[{"message", "errorCode"}]`, a dead session
 * `INVALID_SESSION_ID`, refused grants `{"error", "error_description"}`.
 */
import { randomBytes } from 'node:crypto';
import {
  bearerToken,
  formBody,
  jsonBody,
  route,
  startFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeSaasServer,
} from './fake-http.js';
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';
import {
  RELATIONSHIPS,
  SOBJECTS,
  recordId,
  seedRecords,
  type SObjectType,
  type SRecord,
} from './salesforce-data.js';
import { parseSoql, satisfies, soqlError } from './soql.js';

/** Options of the fake Salesforce. */
export interface FakeSalesforceOptions {
  readonly host?: string;
  readonly port?: number;
  /** The connected app. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** A refresh token granted to the app. */
  readonly refreshToken?: string;
  /** A user for the username-password flow (password with any security token appended). */
  readonly username?: string;
  readonly password?: string;
  /** Records per query batch; Salesforce's default is 2000. */
  readonly batchSize?: number;
  readonly accessTokenTtlSeconds?: number;
}

/** Default credentials of the fake (demo values, not secrets). */
export const SALESFORCE_DEFAULTS = {
  clientId: '3MVG9fortressDemoConsumerKey',
  clientSecret: 'sf-demo-consumer-secret-5a0c',
  refreshToken: '5Aep861fortressDemoRefreshToken',
  username: 'integration@fortress-demo.example',
  password: 'sf-demo-password-1b2cSecurityToken',
} as const;

/** A running fake Salesforce. */
export interface FakeSalesforce extends FakeSaasServer {
  readonly oauth: OAuthIssuer;
  readonly records: ReadonlyMap<string, readonly SRecord[]>;
}

const VERSIONS = ['58.0', '59.0', '60.0', '61.0', '62.0', '63.0'];
const sfError = (
  status: number,
  errorCode: string,
  message: string,
  extra: object = {},
): FakeReply => ({
  status,
  json: [{ message, errorCode, ...extra }],
});
const NOT_FOUND = sfError(404, 'NOT_FOUND', 'The requested resource does not exist');
const INVALID_SESSION: FakeReply = {
  status: 401,
  json: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
  headers: { 'www-authenticate': 'Token' },
};

/** Starts a fake Salesforce on loopback. */
export async function startFakeSalesforce(
  options: FakeSalesforceOptions = {},
): Promise<FakeSalesforce> {
  const clientId = options.clientId ?? SALESFORCE_DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? SALESFORCE_DEFAULTS.clientSecret;
  const username = options.username ?? SALESFORCE_DEFAULTS.username;
  const password = options.password ?? SALESFORCE_DEFAULTS.password;
  const batchSize = options.batchSize ?? 2000;
  const oauth = createOAuthIssuer({
    clients: [{ clientId, clientSecret }],
    refreshTokens: [options.refreshToken ?? SALESFORCE_DEFAULTS.refreshToken],
    ttlSeconds: options.accessTokenTtlSeconds ?? 7200,
    rotate: false,
    prefix: '00D5g000004FORT!AQ',
  });
  const records = seedRecords();
  const sequences = new Map(SOBJECTS.map((t) => [t.name, records.get(t.name)?.length ?? 0]));
  const deleted = new Set<string>();
  const cursors = new Map<string, Record<string, unknown>[]>();
  let nextCursor = 1;

  const typeOf = (name: string | undefined) =>
    SOBJECTS.find((t) => t.name.toLowerCase() === name?.toLowerCase());
  const attributes = (type: string, id: unknown, version: string) => ({
    type,
    url: `/services/data/v${version}/sobjects/${type}/${String(id)}`,
  });

  /** Checks the session and the API version; `undefined` when the call may go on. */
  function gate(req: FakeRequest): FakeReply | undefined {
    const token = bearerToken(req);
    if (token === undefined || !oauth.accepts(token)) return INVALID_SESSION;
    if (!VERSIONS.includes(req.params['version'] ?? '')) return NOT_FOUND;
    return undefined;
  }

  function guarded(handler: (req: FakeRequest, version: string) => FakeReply) {
    return (req: FakeRequest): FakeReply => gate(req) ?? handler(req, req.params['version'] ?? '');
  }

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

  function findRecord(req: FakeRequest): { type: SObjectType; record: SRecord } | FakeReply {
    const type = typeOf(req.params['type']);
    if (type === undefined) return NOT_FOUND;
    const id = req.params['id'] ?? '';
    const record = records
      .get(type.name)
      ?.find((r) => r['Id'] === id || String(r['Id']).slice(0, 15) === id);
    if (record === undefined) {
      return deleted.has(id)
        ? sfError(404, 'ENTITY_IS_DELETED', 'entity is deleted', { fields: [] })
        : NOT_FOUND;
    }
    return { type, record };
  }

  /** Checks written fields: known, writable; returns Salesforce's refusal or the values. */
  function writable(
    type: SObjectType,
    body: unknown,
  ): { ok: true; values: Record<string, unknown> } | { ok: false; reply: FakeReply } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return {
        ok: false,
        reply: sfError(
          400,
          'JSON_PARSER_ERROR',
          'Cannot deserialize instance of sObject from the request body',
        ),
      };
    }
    for (const key of Object.keys(body)) {
      if (!type.fields.includes(key)) {
        return {
          ok: false,
          reply: sfError(
            400,
            'INVALID_FIELD',
            `No such column '${key}' on sobject of type ${type.name}`,
          ),
        };
      }
      if (type.readOnly.includes(key)) {
        const message = `Unable to create/update fields: ${key}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`;
        return {
          ok: false,
          reply: sfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', message, { fields: [key] }),
        };
      }
    }
    return { ok: true, values: body as Record<string, unknown> };
  }

  function tokenEndpoint(req: FakeRequest): FakeReply {
    const form = formBody(req);
    const grant = form.get('grant_type');
    const oauthError = (error: string, description: string): FakeReply => ({
      status: 400,
      json: { error, error_description: description },
    });
    if (grant !== 'refresh_token' && grant !== 'password')
      return oauthError('unsupported_grant_type', 'grant type not supported');
    if (form.get('client_id') !== clientId)
      return oauthError('invalid_client_id', 'client identifier invalid');
    if (form.get('client_secret') !== clientSecret)
      return oauthError('invalid_client', 'invalid client credentials');
    let accessToken: string;
    if (grant === 'refresh_token') {
      const result = oauth.refresh(clientId, clientSecret, form.get('refresh_token') ?? '');
      if (!result.ok) return oauthError('invalid_grant', 'expired access/refresh token');
      accessToken = result.accessToken;
    } else {
      if (form.get('username') !== username || form.get('password') !== password)
        return oauthError('invalid_grant', 'authentication failure');
      accessToken = oauth.issue().accessToken;
    }
    const issuedAt = String(Date.now());
    return {
      status: 200,
      json: {
        access_token: accessToken,
        signature: randomBytes(32).toString('base64'),
        scope: 'api refresh_token',
        instance_url: req.baseUrl,
        id: `${req.baseUrl}/id/00D5g000004FORTEAA/0055g00000ABCDEAA4`,
        token_type: 'Bearer',
        issued_at: issuedAt,
      },
    };
  }

  const routes = [
    route('POST', '/services/oauth2/token', tokenEndpoint),
    route('GET', '/services/data/', () => ({
      status: 200,
      json: VERSIONS.map((v) => ({
        label: `Release ${v}`,
        url: `/services/data/v${v}`,
        version: v,
      })),
    })),
    route(
      'GET',
      '/services/data/v:version/limits',
      guarded(() => ({
        status: 200,
        json: {
          DailyApiRequests: { Max: 100_000, Remaining: 99_950 },
          DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
          DataStorageMB: { Max: 1024, Remaining: 1001 },
        },
      })),
    ),
    route('GET', '/services/data/v:version/query', guarded(query)),
    route(
      'GET',
      '/services/data/v:version/query/:locator',
      guarded((req, version) => {
        const match = /^(.+)-(\d+)$/.exec(req.params['locator'] ?? '');
        const rows = match ? cursors.get(match[1] ?? '') : undefined;
        if (match === null || rows === undefined)
          return sfError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
        return batch(rows, Number(match[2]), match[1] ?? '', version);
      }),
    ),
    route(
      'GET',
      '/services/data/v:version/sobjects/:type/:id',
      guarded((req, version) => {
        const found = findRecord(req);
        if ('status' in found) return found;
        const wanted = req.query
          .get('fields')
          ?.split(',')
          .map((f) => f.trim());
        const unknown = wanted?.find((f) => !found.type.fields.includes(f));
        if (unknown !== undefined)
          return sfError(
            400,
            'INVALID_FIELD',
            `No such column '${unknown}' on sobject of type ${found.type.name}`,
          );
        const fields = wanted ?? found.type.fields;
        return {
          status: 200,
          json: {
            attributes: attributes(found.type.name, found.record['Id'], version),
            ...Object.fromEntries(fields.map((f) => [f, found.record[f] ?? null])),
          },
        };
      }),
    ),
    route(
      'POST',
      '/services/data/v:version/sobjects/:type',
      guarded((req) => {
        const type = typeOf(req.params['type']);
        if (type === undefined) return NOT_FOUND;
        const checked = writable(type, jsonBody(req));
        if (!checked.ok) return checked.reply;
        const values = checked.values;
        const missing = type.required.filter(
          (f) => values[f] === undefined || values[f] === null || values[f] === '',
        );
        if (missing.length > 0) {
          return sfError(
            400,
            'REQUIRED_FIELD_MISSING',
            `Required fields are missing: [${missing.join(', ')}]`,
            { fields: missing },
          );
        }
        const seq = (sequences.get(type.name) ?? 0) + 1;
        sequences.set(type.name, seq);
        const id = recordId(type, seq);
        const stamp = new Date().toISOString().replace('Z', '+0000');
        const record: SRecord = Object.fromEntries(type.fields.map((f) => [f, null]));
        Object.assign(record, values, {
          Id: id,
          CreatedDate: stamp,
          LastModifiedDate: stamp,
          OwnerId: '0055g00000ABCDEAA4',
        });
        if (type.name === 'Case') record['CaseNumber'] = String(1000 + seq).padStart(8, '0');
        if (type.name === 'Contact')
          record['Name'] = [record['FirstName'], record['LastName']].filter(Boolean).join(' ');
        records.get(type.name)?.push(record);
        return { status: 201, json: { id, success: true, errors: [] } };
      }),
    ),
    route(
      'PATCH',
      '/services/data/v:version/sobjects/:type/:id',
      guarded((req) => {
        const found = findRecord(req);
        if ('status' in found) return found;
        const checked = writable(found.type, jsonBody(req));
        if (!checked.ok) return checked.reply;
        Object.assign(found.record, checked.values, {
          LastModifiedDate: new Date().toISOString().replace('Z', '+0000'),
        });
        if (found.type.name === 'Contact') {
          found.record['Name'] = [found.record['FirstName'], found.record['LastName']]
            .filter(Boolean)
            .join(' ');
        }
        return { status: 204 };
      }),
    ),
    route(
      'DELETE',
      '/services/data/v:version/sobjects/:type/:id',
      guarded((req) => {
        const found = findRecord(req);
        if ('status' in found) return found;
        const list = records.get(found.type.name) ?? [];
        list.splice(list.indexOf(found.record), 1);
        deleted.add(String(found.record['Id']));
        return { status: 204 };
      }),
    ),
  ];

  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes,
    notFound: () => NOT_FOUND,
    unavailable: {
      status: 503,
      json: [
        {
          errorCode: 'SERVER_UNAVAILABLE',
          message: 'Server temporarily unavailable. Please try again later.',
        },
      ],
    },
    headers: () => ({
      'sforce-limit-info': 'api-usage=50/100000',
      'x-request-id': randomBytes(8).toString('hex'),
    }),
  });
  return { ...server, oauth, records };
}
