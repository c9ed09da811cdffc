import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalSchema, Tier } from '@fortress/proto/common/v1/common_pb';
import { productFromName } from '@fortress/kit/enum-names';
import { createCedarEngine } from '../../src/adapters/cedar/cedar-engine.js';
import { compileRoles } from '../../src/domain/compile.js';
import { decide } from '../../src/domain/decide.js';
import { readCorpus } from '../support/corpus.js';

// The policy corpus: each file is an org's roles plus requests with the expected decision and
// reasons, run through compile → validate → preparse → decide with the real Cedar engine.
describe('policy corpus (compile + Cedar + decide)', () => {
  const engine = createCedarEngine();
  const corpus = readCorpus();

  it('has cases to run', () =>
    assert.ok(corpus.length >= 8 && corpus.every((c) => c.requests.length > 0)));

  for (const c of corpus) {
    describe(`${c.file}: ${c.description}`, () => {
      const orgId = `org_corpus_${c.file}`;

      before(() => {
        const policies = compileRoles(c.roles);
        assert.deepEqual(
          engine.validate(policies),
          [],
          'compiled policies must validate against the schema',
        );
        engine.load(orgId, 1, policies);
      });

      for (const r of c.requests) {
        it(`decides ${r.decision} for ${r.name}`, () => {
          const principal = create(PrincipalSchema, {
            orgId,
            tier: Tier.SOHO,
            subjectId: 'key_corpus',
            roles: r.principal.roles,
            products: r.principal.products.map(productFromName),
            patKeyId: r.principal.patKeyId,
          });
          const verdict = decide(
            { principal, action: r.action, resourceType: r.resourceType, resourceId: r.model },
            (org, request) => engine.authorize(org, request),
          );
          const byRule = (a: { ruleId: string }, b: { ruleId: string }) =>
            a.ruleId.localeCompare(b.ruleId);
          assert.equal(verdict.allow, r.decision === 'allow');
          assert.deepEqual(
            verdict.reasons.map(({ code, ruleId }) => ({ code, ruleId })).sort(byRule),
            [...r.reasons].sort(byRule),
          );
          assert.equal(verdict.credentialRef, r.decision === 'allow' ? r.principal.patKeyId : '');
        });
      }
    });
  }
});
