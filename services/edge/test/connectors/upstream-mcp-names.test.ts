import assert from 'node:assert/strict';
import { FEDERATED_NAME, federatedNames } from '../../src/connectors/upstream-mcp-names.js';

describe('federatedNames', () => {
  const cases: { name: string; connector: string; upstream: string[]; expected: RegExp[] }[] = [
    {
      name: 'prefixes plain names unchanged',
      connector: 'jira',
      upstream: ['create_issue', 'get-issue'],
      expected: [/^jira__create_issue$/, /^jira__get-issue$/],
    },
    {
      name: 'replaces characters outside [a-zA-Z0-9_-] when nothing collides',
      connector: 'wiki',
      upstream: ['pages.search', 'naïve tool'],
      expected: [/^wiki__pages_search$/, /^wiki__na_ve_tool$/],
    },
    {
      name: 'keeps the unchanged name and hashes the changed one on a collision',
      connector: 'c',
      upstream: ['a.b', 'a_b'],
      expected: [/^c__a_b_[0-9a-f]{8}$/, /^c__a_b$/],
    },
    {
      name: 'hashes every changed name when changed names collide',
      connector: 'c',
      upstream: ['a.b', 'a b'],
      expected: [/^c__a_b_[0-9a-f]{8}$/, /^c__a_b_[0-9a-f]{8}$/],
    },
    {
      name: 'cuts a name longer than 64 characters and appends a hash',
      connector: 'connector',
      upstream: ['x'.repeat(80)],
      expected: [new RegExp(`^connector__${'x'.repeat(44)}_[0-9a-f]{8}$`)],
    },
    {
      name: 'sanitises the connector id too',
      connector: 'my connector.v2',
      upstream: ['run'],
      expected: [/^my_connector_v2__run$/],
    },
  ];

  for (const { name, connector, upstream, expected } of cases) {
    it(name, () => {
      const { names, dropped } = federatedNames(connector, upstream);
      assert.deepEqual(dropped, []);
      names.forEach((federated, i) => {
        assert.match(federated ?? '', expected[i] ?? /^$/);
        assert.match(federated ?? '', FEDERATED_NAME);
      });
      assert.equal(new Set(names).size, names.length);
    });
  }

  it('names each tool the same whatever order the upstream lists them in', () => {
    const upstream = ['a.b', 'a_b', 'a b', 'y'.repeat(70), 'z'.repeat(70), 'plain'];
    const forward = federatedNames('c', upstream).names;
    const backward = federatedNames('c', [...upstream].reverse()).names.reverse();
    assert.deepEqual(backward, forward);
  });

  it('drops a name the upstream repeats and reports it', () => {
    const { names, dropped } = federatedNames('c', ['dup', 'other', 'dup']);
    assert.deepEqual(names, ['c__dup', 'c__other', undefined]);
    assert.deepEqual(dropped, ['dup']);
  });
});
