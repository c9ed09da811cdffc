import assert from 'node:assert/strict';
import { parseJql } from '../../src/saas/jql.js';
import { parseQboQuery, passes } from '../../src/saas/qbo-query.js';
import { parseSoql, satisfies } from '../../src/saas/soql.js';

describe('parseSoql', () => {
  it('reads fields, a relationship, conditions, order, limit and offset', () => {
    const parsed = parseSoql(
      "SELECT Id, Account.Name FROM Contact WHERE Email LIKE '%@example.com' AND MailingCity IN ('London', 'Oakland') ORDER BY LastName DESC LIMIT 5 OFFSET 1",
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.query, {
      fields: ['Id', 'Account.Name'],
      from: 'Contact',
      where: [
        { field: 'Email', op: 'like', values: ['%@example.com'] },
        { field: 'MailingCity', op: 'in', values: ['London', 'Oakland'] },
      ],
      orderBy: { field: 'LastName', desc: true },
      limit: 5,
      offset: 1,
    });
  });

  const malformed = [
    { name: 'a misspelt keyword', soql: 'SELEKT Id FROM Account', token: 'SELEKT', column: 1 },
    { name: 'a missing FROM', soql: 'SELECT Id Account', token: 'Account', column: 11 },
    {
      name: 'a trailing token',
      soql: 'SELECT Id FROM Account LIMIT 5 extra',
      token: 'extra',
      column: 32,
    },
  ];
  for (const c of malformed) {
    it(`points a caret at ${c.name}`, () => {
      const parsed = parseSoql(c.soql);
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.equal(parsed.error.errorCode, 'MALFORMED_QUERY');
      assert.ok(
        parsed.error.message.endsWith(
          `ERROR at Row:1:Column:${c.column}\nunexpected token: '${c.token}'`,
        ),
      );
    });
  }

  it('matches LIKE case-insensitively with % and _', () => {
    assert.ok(
      satisfies('Jane.Roe@Example.com', { field: 'Email', op: 'like', values: ['%@example.com'] }),
    );
    assert.ok(satisfies('Roe', { field: 'LastName', op: 'like', values: ['R_e'] }));
    assert.ok(!satisfies(null, { field: 'Email', op: 'like', values: ['%'] }));
  });
});

describe('parseJql', () => {
  it('reads clauses joined by AND and an ORDER BY', () => {
    const parsed = parseJql(
      'project = SUP AND status IN ("To Do", Done) AND assignee = currentUser() ORDER BY created DESC',
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.query, {
      clauses: [
        { field: 'project', op: '=', values: ['SUP'] },
        { field: 'status', op: 'in', values: ['To Do', 'Done'] },
        { field: 'assignee', op: '=', values: ['currentUser()'] },
      ],
      orderBy: { field: 'created', desc: true },
    });
  });

  it('reads IS EMPTY and IS NOT EMPTY', () => {
    const parsed = parseJql('assignee IS EMPTY AND parent is not empty');
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.query.clauses.map((c) => c.op),
      ['is empty', 'is not empty'],
    );
  });

  const errors = [
    {
      name: "an unknown field in Jira's words",
      jql: 'flavour = vanilla',
      error: "Field 'flavour' does not exist or you do not have permission to view it.",
    },
    {
      name: "a missing operator in Jira's words",
      jql: 'project SUP',
      error: "Error in the JQL Query: Expecting operator but got 'SUP'.",
    },
    {
      name: 'OR, which is outside the sandbox subset',
      jql: 'project = SUP OR project = OPS',
      error: 'Error in the JQL Query: OR is outside the JQL subset of this sandbox.',
    },
  ];
  for (const c of errors) {
    it(`refuses ${c.name}`, () => {
      assert.deepEqual(parseJql(c.jql), { ok: false, error: c.error });
    });
  }
});

describe('parseQboQuery', () => {
  it('reads conditions, order and the page in the query text', () => {
    const parsed = parseQboQuery(
      "select * from Invoice where CustomerRef = '1' and DocNumber like '10%' orderby TxnDate desc startposition 3 maxresults 2",
    );
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.query, {
      count: false,
      entity: 'Invoice',
      where: [
        { field: 'CustomerRef', op: '=', values: ['1'] },
        { field: 'DocNumber', op: 'like', values: ['10%'] },
      ],
      orderBy: { field: 'TxnDate', desc: true },
      startPosition: 3,
      maxResults: 2,
    });
  });

  it('reads escaped quotes and count(*)', () => {
    const parsed = parseQboQuery(
      "SELECT COUNT(*) FROM Customer WHERE DisplayName = 'Jeff\\'s Jalopies'",
    );
    assert.ok(parsed.ok);
    assert.equal(parsed.query.count, true);
    assert.deepEqual(parsed.query.where[0]?.values, ["Jeff's Jalopies"]);
  });

  it('refuses more than 1000 results like QuickBooks', () => {
    const parsed = parseQboQuery('select * from Invoice maxresults 2000');
    assert.deepEqual(parsed, {
      ok: false,
      error: {
        code: '4001',
        message: 'Invalid query',
        detail: 'QueryValidationError: value 2000 is too large. Max allowed value is: 1000',
      },
    });
  });

  it('compares numbers as numbers and text case-insensitively', () => {
    assert.ok(passes(1200, { field: 'Balance', op: '>', values: ['0'] }));
    assert.ok(!passes(0, { field: 'Balance', op: '>', values: ['0'] }));
    assert.ok(
      passes("Amy's Bird Sanctuary", { field: 'DisplayName', op: 'like', values: ['%bird%'] }),
    );
  });
});
