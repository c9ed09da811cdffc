import assert from 'node:assert/strict';
import { createCedarEngine } from '../../src/adapters/cedar/cedar-engine.js';
import { compileModel, grantPolicyId, namedResources } from '../../src/domain/compile.js';
import { EMPTY_MODEL, type Grant, type OrgModel, type Rule } from '../../src/domain/model.js';

const grant = (
  resourceType: Grant['resourceType'],
  resourceId: string,
  effect: Grant['effect'] = 'allow',
): Grant => ({
  resourceType,
  resourceId,
  effect,
});
const model = (over: Partial<OrgModel>): OrgModel => ({ ...EMPTY_MODEL, ...over });
const window = (id: string, timeZone: string): Rule => ({
  id,
  scope: { type: 'org' },
  condition: { kind: 'time_window', days: [1], startMinute: 0, endMinute: 60, timeZone },
});
const BUILTINS = [
  'builtin/admin/admin',
  'builtin/admin/auditor',
  'builtin/admin/owner',
  'builtin/admin/viewer',
];

describe('compileModel', () => {
  const engine = createCedarEngine();

  it('compiles the empty model to the built-in admin roles only, with no clocks', () => {
    const compiled = compileModel(EMPTY_MODEL);
    assert.deepEqual(Object.keys(compiled.policies).sort(), BUILTINS);
    assert.deepEqual(compiled.zones, []);
    assert.deepEqual(engine.validate(compiled), []);
  });

  it('names one policy per grant, disabled toggle, conditional rule and PAT limit', () => {
    const compiled = compileModel(
      model({
        roles: [
          {
            name: 'dev',
            description: '',
            grants: [
              grant('model', '*'),
              grant('tool', 'crm__*', 'deny'),
              grant('admin', 'roles.read'),
            ],
          },
        ],
        toggles: [
          { targetType: 'connector', targetId: 'crm', enabled: false },
          { targetType: 'pat_key', targetId: 'pat_on', enabled: true },
        ],
        rules: [
          window('hours', 'Europe/Berlin'),
          {
            id: 'rate',
            scope: { type: 'org' },
            condition: { kind: 'rate_limit', limit: 1, windowSeconds: 60, per: 'user' },
          },
        ],
        patLimits: [
          {
            patKeyId: 'pat_a',
            modelAllowlist: ['m1'],
            maxTokensPerRequest: 10,
            clampMaxTokens: false,
            monthlySpendCapMicrousd: 0,
            requestsPerMinute: 0,
            tokensPerMinute: 0,
            alertThresholdPercent: 80,
          },
          {
            patKeyId: 'pat_b',
            modelAllowlist: [],
            maxTokensPerRequest: 10,
            clampMaxTokens: true,
            monthlySpendCapMicrousd: 0,
            requestsPerMinute: 0,
            tokensPerMinute: 0,
            alertThresholdPercent: 80,
          },
        ],
      }),
    );
    assert.deepEqual(
      Object.keys(compiled.policies)
        .filter((id) => !id.startsWith('builtin/'))
        .sort(),
      [
        'pat/pat_a/max_tokens',
        'pat/pat_a/models',
        'role/dev/allow/admin/roles.read',
        'role/dev/allow/model/*',
        'role/dev/deny/tool/crm__*',
        'rule/hours',
        'toggle/connector/crm',
      ],
      'no policy for an enabled toggle, a rate limit, or a clamping PAT key',
    );
    assert.match(
      compiled.policies['role/dev/deny/tool/crm__*'] ?? '',
      /^forbid \(principal in Fortress::Role::"dev", .*resource in Fortress::Connector::"crm"\);$/,
    );
    assert.deepEqual(engine.validate(compiled), []);
  });

  it('gives every zone one clock, in sorted order, each zone once', () => {
    const compiled = compileModel(
      model({
        rules: [
          window('a', 'Europe/Berlin'),
          window('b', 'America/New_York'),
          window('c', 'Europe/Berlin'),
        ],
      }),
    );
    assert.deepEqual(compiled.zones, ['America/New_York', 'Europe/Berlin']);
    assert.match(compiled.policies['rule/a'] ?? '', /context\.tz1\.day/);
    assert.match(compiled.policies['rule/b'] ?? '', /context\.tz0\.day/);
    assert.match(compiled.schema, /tz0: Clock,\s+tz1: Clock,/);
    assert.doesNotMatch(compiled.schema, /tz2/);
    assert.deepEqual(engine.validate(compiled), []);
  });

  it('gives grants distinct ids even when names contain ":" (ids use "/", which names cannot)', () => {
    const roles = [
      {
        name: 'a',
        description: '',
        grants: [grant('model', '*'), grant('model', 'b:allow:model:c', 'deny')],
      },
      { name: 'a:deny:model:b', description: '', grants: [grant('model', 'c')] },
    ];
    assert.notEqual(
      grantPolicyId('a', grant('model', 'b:allow:model:c', 'deny')),
      grantPolicyId('a:deny:model:b', grant('model', 'c')),
    );
    assert.equal(Object.keys(compileModel(model({ roles })).policies).length, BUILTINS.length + 3);
  });

  it('compiles a repeated identical grant once', () => {
    const roles = [
      { name: 'dev', description: '', grants: [grant('model', 'm1'), grant('model', 'm1')] },
    ];
    assert.deepEqual(
      Object.keys(compileModel(model({ roles })).policies).length,
      BUILTINS.length + 1,
    );
  });

  const unsafe = [
    {
      name: 'a role name with a quote',
      m: model({ roles: [{ name: 'dev"', description: '', grants: [grant('model', '*')] }] }),
    },
    {
      name: 'a model id breaking out of its string',
      m: model({
        roles: [{ name: 'dev', description: '', grants: [grant('model', 'm") || (true')] }],
      }),
    },
    {
      name: 'a connector wildcard with a newline',
      m: model({ roles: [{ name: 'dev', description: '', grants: [grant('tool', 'crm\n__*')] }] }),
    },
    {
      name: 'a toggle target with a space',
      m: model({ toggles: [{ targetType: 'connector', targetId: 'a b', enabled: false }] }),
    },
    { name: 'a rule id with a slash', m: model({ rules: [window('a/b', 'Europe/Berlin')] }) },
    {
      name: 'a role scope with a quote',
      m: model({ rules: [{ ...window('r', 'Europe/Berlin'), scope: { type: 'role', id: 'x"' } }] }),
    },
    {
      name: 'an attribute name with a quote',
      m: model({
        rules: [
          {
            id: 'r',
            scope: { type: 'org' },
            condition: { kind: 'attribute', attribute: 'a"', operator: 'eq', values: ['x'] },
          },
        ],
      }),
    },
    {
      name: 'an allowlisted model with a quote',
      m: model({
        patLimits: [
          {
            patKeyId: 'pat_a',
            modelAllowlist: ['m"'],
            maxTokensPerRequest: 0,
            clampMaxTokens: false,
            monthlySpendCapMicrousd: 0,
            requestsPerMinute: 0,
            tokensPerMinute: 0,
            alertThresholdPercent: 80,
          },
        ],
      }),
    },
  ];
  for (const c of unsafe) {
    it(`refuses to compile ${c.name}, whatever validated it`, () => {
      assert.throws(
        () => compileModel(c.m),
        /refusing to compile a name outside the allowed pattern/,
      );
    });
  }

  it('escapes attribute values, so quotes and backslashes stay inside their string', () => {
    const m = model({
      rules: [
        {
          id: 'r',
          scope: { type: 'org' },
          condition: {
            kind: 'attribute',
            attribute: 'a',
            operator: 'in',
            values: ['x", "y', 'back\\'],
          },
        },
      ],
    });
    const compiled = compileModel(m);
    assert.match(compiled.policies['rule/r'] ?? '', /\["x\\", \\"y", "back\\\\"\]/);
    assert.deepEqual(engine.validate(compiled), []);
  });
});

describe('namedResources', () => {
  it('lists the exact models and tools a model names, sorted, each once', () => {
    const m = model({
      roles: [
        {
          name: 'a',
          description: '',
          grants: [
            grant('tool', 'crm__list'),
            grant('tool', 'crm__*'),
            grant('model', '*'),
            grant('model', 'm2'),
          ],
        },
        {
          name: 'b',
          description: '',
          grants: [grant('model', 'm2', 'deny'), grant('admin', 'roles.read')],
        },
      ],
      patLimits: [
        {
          patKeyId: 'pat_a',
          modelAllowlist: ['m1'],
          maxTokensPerRequest: 0,
          clampMaxTokens: false,
          monthlySpendCapMicrousd: 0,
          requestsPerMinute: 0,
          tokensPerMinute: 0,
          alertThresholdPercent: 80,
        },
      ],
    });
    assert.deepEqual(namedResources(m), [
      { type: 'model', id: 'm1' },
      { type: 'model', id: 'm2' },
      { type: 'tool', id: 'crm__list' },
    ]);
  });
});
