import assert from 'node:assert/strict';
import { listConnectorTypes } from '../../src/connectors/catalog/index.js';
import { startFixture, type Fixture } from './fakes-fixture.js';
import { assertMatchesOutputSchema, maskPii, resultOf, unavailableReason } from './support.js';

interface ToolCase {
  name: string;
  type: string;
  action: string;
  args: Record<string, unknown>;
  check?: (result: Record<string, unknown>) => void;
}

const JANE_ROE_CONTACT = '0035g0000000001AAA';
const INITECH_ACCOUNT = '0015g0000000003AAA';

/** A happy-path call of every tool of every connector. */
const CASES: ToolCase[] = [
  { name: 'zendesk lists tickets', type: 'zendesk', action: 'list_tickets', args: {} },
  {
    name: 'zendesk reads a ticket with PII in its description',
    type: 'zendesk',
    action: 'get_ticket',
    args: { id: 1 },
    check: (r) => assert.match(JSON.stringify(r), /jane\.roe@example\.com/),
  },
  {
    name: 'zendesk creates a ticket',
    type: 'zendesk',
    action: 'create_ticket',
    args: { subject: 'Hi', description: 'Help' },
  },
  {
    name: 'zendesk comments on a ticket',
    type: 'zendesk',
    action: 'update_ticket',
    args: { id: 2, comment: 'On it', public: false },
  },
  { name: 'zendesk deletes a ticket', type: 'zendesk', action: 'delete_ticket', args: { id: 6 } },
  {
    name: 'slack lists public channels',
    type: 'slack',
    action: 'list_channels',
    args: {},
    check: (r) =>
      assert.ok((r['channels'] as { is_private: boolean }[]).every((c) => !c.is_private)),
  },
  {
    name: 'slack posts a message',
    type: 'slack',
    action: 'post_message',
    args: { channel: '#support', text: 'Deploy done' },
  },
  {
    name: 'slack reads channel history',
    type: 'slack',
    action: 'get_channel_history',
    args: { channel: 'C024BE91L', limit: 3 },
    check: (r) => {
      assert.equal(r['count'], 3);
      assert.equal(r['has_more'], true);
    },
  },
  {
    name: 'github lists open issues',
    type: 'github',
    action: 'list_issues',
    args: { owner: 'acme', repo: 'support-portal' },
    check: (r) => assert.ok((r['issues'] as { state: string }[]).every((i) => i.state === 'open')),
  },
  {
    name: 'github reads an issue',
    type: 'github',
    action: 'get_issue',
    args: { owner: 'acme', repo: 'support-portal', issue_number: 1 },
  },
  {
    name: 'github opens an issue',
    type: 'github',
    action: 'create_issue',
    args: {
      owner: 'acme',
      repo: 'support-portal',
      title: 'New bug',
      labels: ['bug'],
      assignees: ['mona'],
    },
  },
  {
    name: 'github comments on an issue',
    type: 'github',
    action: 'comment_on_issue',
    args: { owner: 'acme', repo: 'support-portal', issue_number: 2, body: 'Looking' },
  },
  {
    name: 'github lists pull requests',
    type: 'github',
    action: 'list_pull_requests',
    args: { owner: 'acme', repo: 'support-portal', state: 'all' },
    check: (r) => assert.equal(r['count'], 3),
  },
  {
    name: 'github closes an issue',
    type: 'github',
    action: 'close_issue',
    args: { owner: 'acme', repo: 'support-portal', issue_number: 7, reason: 'not_planned' },
    check: (r) =>
      assert.equal((r['issue'] as { state_reason: string }).state_reason, 'not_planned'),
  },
  {
    name: 'jira searches issues',
    type: 'jira',
    action: 'search_issues',
    args: { jql: 'project = SUP AND status = "To Do"' },
  },
  {
    name: 'jira reads an issue with its ADF description as text',
    type: 'jira',
    action: 'get_issue',
    args: { key: 'SUP-1' },
    check: (r) =>
      assert.match(
        String((r['issue'] as { description: string }).description),
        /jane\.roe@example\.com/,
      ),
  },
  {
    name: 'jira creates an issue',
    type: 'jira',
    action: 'create_issue',
    args: { project_key: 'SUP', summary: 'From MCP', description: 'line one\nline two' },
  },
  {
    name: 'jira lists transitions',
    type: 'jira',
    action: 'list_transitions',
    args: { key: 'SUP-1' },
  },
  {
    name: 'jira transitions an issue with a comment',
    type: 'jira',
    action: 'transition_issue',
    args: { key: 'SUP-1', transition_id: '31', comment: 'Fixed' },
  },
  { name: 'jira deletes an issue', type: 'jira', action: 'delete_issue', args: { key: 'SUP-6' } },
  {
    name: 'salesforce runs a SOQL query with a relationship',
    type: 'salesforce',
    action: 'query',
    args: {
      soql: "SELECT Id, Name, Email, Account.Name FROM Contact WHERE MailingCity = 'New York'",
    },
    check: (r) =>
      assert.deepEqual((r['records'] as Record<string, unknown>[])[0]?.['Account'], {
        Name: 'Acme Corporation',
      }),
  },
  {
    name: 'salesforce reads a record',
    type: 'salesforce',
    action: 'get_record',
    args: { sobject: 'Contact', id: JANE_ROE_CONTACT, fields: ['FirstName', 'Email', 'Phone'] },
  },
  {
    name: 'salesforce creates a record',
    type: 'salesforce',
    action: 'create_record',
    args: { sobject: 'Account', fields: { Name: 'Umbrella' } },
  },
  {
    name: 'salesforce updates a record',
    type: 'salesforce',
    action: 'update_record',
    args: { sobject: 'Account', id: INITECH_ACCOUNT, fields: { Industry: 'Software' } },
  },
  {
    name: 'salesforce deletes a record',
    type: 'salesforce',
    action: 'delete_record',
    args: { sobject: 'Contact', id: '0035g0000000005AAA' },
  },
  {
    name: 'accounting reads the general ledger',
    type: 'accounting',
    action: 'read_ledger',
    args: { start_date: '2025-01-01', end_date: '2025-03-31' },
    check: (r) => assert.ok((r['count'] as number) > 0),
  },
  {
    name: 'accounting lists invoices',
    type: 'accounting',
    action: 'list_invoices',
    args: { unpaid_only: true },
  },
  {
    name: 'accounting reads an invoice',
    type: 'accounting',
    action: 'get_invoice',
    args: { id: '131' },
  },
  {
    name: 'accounting creates an invoice',
    type: 'accounting',
    action: 'create_invoice',
    args: {
      customer_id: '2',
      lines: [{ amount: 300, description: 'Audit', item_id: '3', quantity: 1.5 }],
      due_date: '2025-12-31',
    },
    check: (r) => assert.equal((r['invoice'] as { total: number }).total, 300),
  },
  {
    name: 'accounting lists customers',
    type: 'accounting',
    action: 'list_customers',
    args: { name_contains: "Amy's" },
  },
];

describe('every connector tool against its vendor fake', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.fakes.close());

  it('has a case for every tool of the catalog', () => {
    const covered = new Set(CASES.map((c) => `${c.type}__${c.action}`));
    const all = listConnectorTypes().flatMap((def) =>
      def.tools.map((t) => `${def.type}__${t.action}`),
    );
    assert.deepEqual(
      all.filter((name) => !covered.has(name)),
      [],
    );
  });

  for (const c of CASES) {
    it(`${c.name} (${c.type}__${c.action}); the result, redacted or not, matches the output schema`, async () => {
      const result = resultOf(await fx.call(c.type, c.action, c.args));
      assertMatchesOutputSchema(c.type, c.action, result);
      assertMatchesOutputSchema(c.type, c.action, maskPii(result));
      c.check?.(result);
    });
  }

  for (const type of ['zendesk', 'slack', 'github', 'jira', 'salesforce', 'accounting']) {
    it(`passes Test Connection for ${type}`, async () => {
      const outcome = await fx.test(type);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
    });
  }
});

describe('vendor outages', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.fakes.close());

  const first: Record<string, [string, Record<string, unknown>]> = {
    zendesk: ['get_ticket', { id: 1 }],
    slack: ['list_channels', {}],
    github: ['get_issue', { owner: 'acme', repo: 'support-portal', issue_number: 1 }],
    jira: ['get_issue', { key: 'SUP-1' }],
    salesforce: ['query', { soql: 'SELECT Id FROM Account' }],
    accounting: ['get_invoice', { id: '130' }],
  };
  for (const [type, [action, args]] of Object.entries(first)) {
    for (const mode of ['reset', '503'] as const) {
      it(`reports ${type} unavailable when the vendor ${mode === 'reset' ? 'drops connections' : 'answers 503'}`, async () => {
        // Warm up first so OAuth connectors hold an access token and hit the API itself.
        resultOf(await fx.call(type, action, args));
        fx.fake(type).setDown(mode);
        try {
          const reason = unavailableReason(await fx.call(type, action, args));
          assert.match(reason, mode === 'reset' ? /could not be reached/ : /answered 503/);
          const test = await fx.test(type);
          assert.equal(test.ok, false);
        } finally {
          fx.fake(type).setDown(false);
        }
        resultOf(await fx.call(type, action, args));
      });
    }
  }
});
