import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { connectorDefinition, listConnectorTypes } from '../../src/connectors/catalog/index.js';
import { validateToolArguments } from '../../src/connectors/schema-validation.js';
import type { CredentialKind } from '../../src/connectors/types.js';

const MCP_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** The longest connector id the gateway should expect (instance prefixes included). */
const LONGEST_CONNECTOR_ID = 'x'.repeat(20);

/** Every string schema anywhere inside a schema, with its path. */
function stringSchemas(
  schema: unknown,
  path = '#',
): { path: string; schema: Record<string, unknown> }[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, unknown>;
  const found: { path: string; schema: Record<string, unknown> }[] = [];
  const type = node['type'];
  if (type === 'string' || (Array.isArray(type) && type.includes('string')))
    found.push({ path, schema: node });
  for (const [key, value] of Object.entries(node)) {
    if (key === 'enum' || key === 'default') continue;
    if (Array.isArray(value))
      value.forEach((v, i) => found.push(...stringSchemas(v, `${path}/${key}/${i}`)));
    else if (typeof value === 'object') found.push(...stringSchemas(value, `${path}/${key}`));
  }
  return found;
}

describe('connector catalog', () => {
  const defs = listConnectorTypes();
  const tools = defs.flatMap((def) => def.tools.map((tool) => ({ def, tool })));

  it('offers the six SaaS connectors of M2', () => {
    assert.deepEqual(
      defs.map((d) => d.type),
      ['zendesk', 'slack', 'github', 'jira', 'salesforce', 'accounting'],
    );
    assert.equal(connectorDefinition('zendesk')?.title, 'Zendesk');
    assert.equal(connectorDefinition('nope'), undefined);
  });

  it('has the actions the seeds name', () => {
    const actions = (type: string) => connectorDefinition(type)?.tools.map((t) => t.action) ?? [];
    for (const action of [
      'list_tickets',
      'get_ticket',
      'create_ticket',
      'update_ticket',
      'delete_ticket',
    ]) {
      assert.ok(actions('zendesk').includes(action), action);
    }
    for (const action of ['read_ledger', 'create_invoice'])
      assert.ok(actions('accounting').includes(action), action);
  });

  it('accepts every credential kind of M4 somewhere', () => {
    const kinds = new Set(defs.flatMap((d) => Object.keys(d.auth) as CredentialKind[]));
    assert.deepEqual([...kinds].sort(), ['api_key', 'app', 'oauth2', 'username_password']);
  });

  it('names every action so that <connector>__<action> is a valid MCP tool name, even for a 20-character id', () => {
    for (const { def, tool } of tools) {
      assert.match(tool.action, /^[a-z][a-z0-9_]*$/, `${def.type}.${tool.action}`);
      assert.match(`${def.type}__${tool.action}`, MCP_TOOL_NAME);
      const longest = `${LONGEST_CONNECTOR_ID}__${tool.action}`;
      assert.ok(longest.length <= 64, `${longest} is ${longest.length} characters`);
      assert.match(longest, MCP_TOOL_NAME);
    }
    for (const def of defs)
      assert.ok(def.type.length <= 20 && /^[a-z][a-z0-9_-]*$/.test(def.type), def.type);
  });

  it('has no duplicate action within a connector', () => {
    for (const def of defs) {
      const names = def.tools.map((t) => t.action);
      assert.equal(new Set(names).size, names.length, def.type);
    }
  });

  it('compiles every input and output schema', () => {
    const ajv = new Ajv({ allErrors: true });
    for (const { def, tool } of tools) {
      assert.doesNotThrow(() => ajv.compile(tool.inputSchema), `${def.type}__${tool.action} input`);
      assert.doesNotThrow(
        () => ajv.compile(tool.outputSchema),
        `${def.type}__${tool.action} output`,
      );
    }
  });

  it('takes object arguments and refuses unknown ones', () => {
    for (const { def, tool } of tools) {
      assert.equal(tool.inputSchema['type'], 'object', `${def.type}__${tool.action}`);
      assert.equal(tool.inputSchema['additionalProperties'], false, `${def.type}__${tool.action}`);
    }
  });

  it('puts no format or pattern on output strings, which the PII redactor masks', () => {
    for (const { def, tool } of tools) {
      assert.equal(tool.outputSchema['type'], 'object', `${def.type}__${tool.action}`);
      for (const { path, schema } of stringSchemas(tool.outputSchema)) {
        assert.equal(schema['format'], undefined, `${def.type}__${tool.action} ${path}`);
        assert.equal(schema['pattern'], undefined, `${def.type}__${tool.action} ${path}`);
      }
    }
  });

  it('flags exactly the delete actions destructive, and read-only tools only read', () => {
    for (const { def, tool } of tools) {
      const name = `${def.type}__${tool.action}`;
      assert.equal(tool.annotations.destructiveHint, tool.action.startsWith('delete_'), name);
      assert.equal(tool.annotations.openWorldHint, true, name);
      if (tool.annotations.readOnlyHint) {
        assert.equal(tool.annotations.destructiveHint, false, name);
        const method =
          typeof tool.request === 'function'
            ? tool.request({ args: {}, settings: {} }).method
            : tool.request.method;
        assert.equal(method, 'GET', name);
      }
    }
  });

  it('gives list tools a bounded limit argument', () => {
    for (const { def, tool } of tools) {
      if (tool.list === undefined) continue;
      const limit = (tool.inputSchema['properties'] as Record<string, Record<string, unknown>>)[
        'limit'
      ];
      assert.ok(limit, `${def.type}__${tool.action}`);
      assert.equal(typeof limit['maximum'], 'number');
      assert.equal(typeof limit['default'], 'number');
    }
  });
});

describe('validateToolArguments', () => {
  const zendesk = connectorDefinition('zendesk');
  const github = connectorDefinition('github');
  const accounting = connectorDefinition('accounting');
  assert.ok(zendesk && github && accounting);

  const cases = [
    {
      name: 'accepts a valid call',
      def: zendesk,
      action: 'list_tickets',
      args: { status: 'open' },
      errors: [],
    },
    {
      name: 'accepts no arguments where none are required',
      def: zendesk,
      action: 'list_tickets',
      args: {},
      errors: [],
    },
    {
      name: 'refuses a value outside the enum',
      def: zendesk,
      action: 'list_tickets',
      args: { status: 'bogus' },
      errors: ['"/status" must be one of: new, open, pending, hold, solved, closed'],
    },
    {
      name: 'refuses a missing required argument',
      def: zendesk,
      action: 'get_ticket',
      args: {},
      errors: ['"/" is missing the property "id"'],
    },
    {
      name: 'refuses an unknown argument',
      def: zendesk,
      action: 'get_ticket',
      args: { id: 1, force: true },
      errors: ['"/" has an unknown property "force"'],
    },
    {
      name: 'refuses a wrong type',
      def: zendesk,
      action: 'get_ticket',
      args: { id: '1' },
      errors: ['"/id" should be integer'],
    },
    {
      name: 'refuses an update with nothing to change',
      def: zendesk,
      action: 'update_ticket',
      args: { id: 1 },
      errors: [
        '"/" is missing the property "status"',
        '"/" is missing the property "comment"',
        '"/" should match some schema in anyOf',
      ],
    },
    {
      name: 'refuses a path value that is not a repository name',
      def: github,
      action: 'get_issue',
      args: { owner: 'acme/../x', repo: 'r', issue_number: 1 },
      errors: ['"/owner" should match pattern "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"'],
    },
    {
      name: 'refuses an invoice without lines',
      def: accounting,
      action: 'create_invoice',
      args: { customer_id: '1', lines: [] },
      errors: ['"/lines" should NOT have fewer than 1 items'],
    },
    {
      name: 'checks nested items',
      def: accounting,
      action: 'create_invoice',
      args: { customer_id: '1', lines: [{ amount: -5 }] },
      errors: ['"/lines/0/amount" should be > 0'],
    },
    {
      name: 'refuses an unknown action',
      def: zendesk,
      action: 'close_ticket',
      args: {},
      errors: ['unknown action "close_ticket" for zendesk'],
    },
  ];
  for (const c of cases) {
    it(`${c.name}`, () => {
      const verdict = validateToolArguments(c.def, c.action, c.args);
      assert.deepEqual(
        verdict,
        c.errors.length === 0 ? { ok: true } : { ok: false, errors: c.errors },
      );
    });
  }

  it("does not fill defaults into the caller's arguments", () => {
    const args = {};
    validateToolArguments(zendesk, 'list_tickets', args);
    assert.deepEqual(args, {});
  });
});
