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
  SOBJECTS,
  recordId,
  seedRecords,
  type SObjectType,
  type SRecord,
} from './salesforce-data.js';
import { createSoqlEngine } from './salesforce-query.js';
import { attributes, NOT_FOUND, sfError, typeOf } from './salesforce-wire.js';

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
  const soql = createSoqlEngine(records, batchSize);
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
    route(
      'GET',
      '/services/data/v:version/query',
      guarded((req, version) => soql.query(req, version)),
    ),
    route(
      'GET',
      '/services/data/v:version/query/:locator',
      guarded((req, version) => soql.next(req.params['locator'] ?? '', version)),
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
