/**
 * Salesforce REST API (https://{mydomain}.my.salesforce.com/services/data/vXX.X). SOQL
 * results page through `nextRecordsUrl`; errors are `[{"message": …, "errorCode": …}]`.
 * Auth: OAuth 2 bearer tokens refreshed at `/services/oauth2/token` (Salesforce sends no
 * lifetime, so a 401 triggers the refresh), or the username-password OAuth flow.
 */
import { int, isRecord, list, rec, str, text } from '../json-values.js';
import { array, boolean, integer, limitArg, object, openObject, string } from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema } from '../types.js';
import { CREATES, DELETES, READS, SETS } from './hints.js';

const sobject = string('The sObject type, e.g. Account, Contact, Case.', {
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,79}$',
});
const recordId = string('The 15- or 18-character record id.', {
  pattern: '^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$',
});
const fieldValues: JsonSchema = {
  type: 'object',
  description: 'Field API names and values, e.g. {"Name": "Acme", "Phone": "+1 415 555 0100"}.',
  minProperties: 1,
  maxProperties: 200,
  propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,79}$' },
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
};
const dataPath = '/services/data/{settings.apiVersion}';

/** A record without Salesforce's `attributes` envelopes (nested relationships included). */
function record(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(rec(value))) {
    if (key === 'attributes') continue;
    out[key] = isRecord(field) ? record(field) : field;
  }
  return out;
}

/** Salesforce's `[{"errorCode", "message"}]`, or an OAuth error, or plain text. */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (Array.isArray(body)) {
    const parts = list(body).map((e) => {
      const r = rec(e);
      const code = str(r['errorCode']);
      const message = text(r['message']).trim();
      return code === null ? message : `${code}: ${message}`;
    });
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  const b = rec(body);
  return str(b['error_description']) ?? str(b['error']) ?? str(b['message']) ?? undefined;
}

/** The Salesforce connector. */
export const salesforce: ConnectorDefinition = {
  type: 'salesforce',
  title: 'Salesforce',
  description: 'Salesforce records: SOQL queries, read, create, update, delete.',
  baseUrlHint: 'https://{mydomain}.my.salesforce.com',
  settings: [
    {
      name: 'apiVersion',
      description: 'The REST API version.',
      required: false,
      default: 'v62.0',
      pattern: '^v[0-9]{2,3}\\.[0-9]$',
    },
    {
      name: 'tokenUrl',
      description: 'OAuth token endpoint; default {baseUrl}/services/oauth2/token.',
      required: false,
    },
  ],
  auth: {
    oauth2: {
      scheme: 'oauth2_refresh',
      tokenUrl: '{baseUrl}/services/oauth2/token',
      clientAuth: 'body',
      encoding: 'form',
    },
    username_password: { scheme: 'oauth2_password', tokenUrl: '{baseUrl}/services/oauth2/token' },
  },
  pagination: { style: 'next_url', nextUrlPath: ['nextRecordsUrl'], maxPageSize: 2000 },
  errors: { message: errorMessage },
  testConnection: { request: { method: 'GET', path: `${dataPath}/limits` } },
  tools: [
    {
      action: 'query',
      title: 'Run a SOQL query',
      description:
        "Runs a SOQL query, e.g. SELECT Id, Name FROM Account WHERE Industry = 'Banking'.",
      annotations: READS,
      inputSchema: object(
        {
          soql: string('The SOQL query.', { minLength: 1, maxLength: 20_000 }),
          limit: limitArg(200, 2000),
        },
        ['soql'],
      ),
      outputSchema: object({
        records: array(openObject('Selected fields by API name.')),
        count: integer('How many records are returned.'),
        has_more: boolean('Whether more records match than were returned.'),
        total_size: integer('How many records match.'),
      }),
      request: { method: 'GET', path: `${dataPath}/query`, query: { q: '{soql}' } },
      list: { itemsAt: [['records']] },
      result: ({ items, hasMore, body }) => ({
        records: items.map(record),
        count: items.length,
        has_more: hasMore,
        total_size: int(rec(body)['totalSize']) ?? items.length,
      }),
    },
    {
      action: 'get_record',
      title: 'Get a record',
      description: 'Reads one record, all fields or the ones named.',
      annotations: READS,
      inputSchema: object(
        {
          sobject,
          id: recordId,
          fields: array(
            string(undefined, { pattern: '^[A-Za-z][A-Za-z0-9_.]{0,120}$' }),
            'Fields to read.',
            {
              minItems: 1,
              maxItems: 200,
            },
          ),
        },
        ['sobject', 'id'],
      ),
      outputSchema: object({ sobject: string(), record: openObject() }),
      request: {
        method: 'GET',
        path: `${dataPath}/sobjects/{sobject}/{id}`,
        query: { fields: '{fields}' },
      },
      result: ({ args, body }) => ({ sobject: args['sobject'], record: record(body) }),
    },
    {
      action: 'create_record',
      title: 'Create a record',
      description: 'Creates a record of an sObject type.',
      annotations: CREATES,
      inputSchema: object({ sobject, fields: fieldValues }),
      outputSchema: object({ id: string(), success: boolean() }),
      request: { method: 'POST', path: `${dataPath}/sobjects/{sobject}`, body: '{fields}' },
      result: ({ body }) => ({ id: text(rec(body)['id']), success: rec(body)['success'] === true }),
    },
    {
      action: 'update_record',
      title: 'Update a record',
      description: 'Sets fields of a record.',
      annotations: SETS,
      inputSchema: object({ sobject, id: recordId, fields: fieldValues }),
      outputSchema: object({ id: string(), updated: boolean() }),
      request: { method: 'PATCH', path: `${dataPath}/sobjects/{sobject}/{id}`, body: '{fields}' },
      result: ({ args }) => ({ id: args['id'], updated: true }),
    },
    {
      action: 'delete_record',
      title: 'Delete a record',
      description: 'Deletes a record (it goes to the Recycle Bin).',
      annotations: DELETES,
      inputSchema: object({ sobject, id: recordId }),
      outputSchema: object({ id: string(), deleted: boolean() }),
      request: { method: 'DELETE', path: `${dataPath}/sobjects/{sobject}/{id}` },
      result: ({ args }) => ({ id: args['id'], deleted: true }),
    },
  ],
};
