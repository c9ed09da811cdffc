import assert from 'node:assert/strict';
import { fromJson } from '@bufbuild/protobuf';
import { PolicyModelSchema } from '@fortress/proto/policy/v1/policy_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { createCedarEngine } from '../../src/adapters/cedar/cedar-engine.js';
import { cedarRequest } from '../../src/domain/cedar-request.js';
import { compileModel, type CompiledPolicy } from '../../src/domain/compile.js';
import { decide } from '../../src/domain/decide.js';
import { modelFrom } from '../../src/rpc/model-from-proto.js';
import { modelToProto } from '../../src/rpc/model-to-proto.js';
import { readCorpus, reasonSet } from '../support/corpus.js';
import { referenceDecide } from '../support/reference-policy.js';

// The policy corpus (Cedar's integration-test style): each file is an org model plus requests
// with the expected decision and reasons, run through the real pipeline: compileModel →
// validate → preparse → cedarRequest → decide; and models the admin side must refuse.
/** Reasons decide gives before asking Cedar; the reference evaluator assumes they passed. */
const STRUCTURAL = new Set([
  'unknown_action',
  'invalid_resource',
  'wrong_product',
  'no_pat_key',
  'invalid_model',
  'invalid_tool',
  'not_an_admin',
]);

describe('policy corpus (compile + Cedar + decide)', () => {
  const engine = createCedarEngine();
  const corpus = readCorpus();

  it('has cases for every layer', () => {
    assert.ok(corpus.length >= 12, `only ${corpus.length} corpus files`);
    const codes = new Set(
      corpus.flatMap((c) => c.requests.flatMap((r) => r.reasons.map((x) => x.code))),
    );
    for (const code of [
      'allowed',
      'not_permitted',
      'disabled',
      'denied_by_role',
      'outside_time_window',
      'ip_not_allowed',
    ]) {
      assert.ok(codes.has(code), `no corpus case expects ${code}`);
    }
  });

  for (const c of corpus.filter((f) => f.requests.length > 0)) {
    describe(`${c.file}: ${c.description}`, () => {
      const orgId = `org_corpus_${c.file.replace(/[^a-z0-9]/g, '')}`;
      let compiled: CompiledPolicy;

      before(() => {
        assert.doesNotThrow(
          () => modelFrom(modelToProto(c.model)),
          'the admin validator accepts the model',
        );
        compiled = compileModel(c.model);
        assert.deepEqual(
          engine.validate(compiled),
          [],
          'the compiled model validates against its schema',
        );
        engine.load(orgId, compiled);
      });

      for (const r of c.requests) {
        it(`decides ${r.decision} for ${r.name}`, () => {
          const request = cedarRequest(r.input, compiled.zones);
          const verdict = decide(r.input, c.model, (q) => engine.authorize(orgId, q), request);
          const got = {
            decision: verdict.allow ? 'allow' : 'deny',
            reasons: reasonSet(verdict.reasons),
          };
          assert.deepEqual(got, { decision: r.decision, reasons: reasonSet(r.reasons) });
          assert.equal(verdict.maxTokensClamp, r.maxTokensClamp);
          // Simulate evaluates the same request without the preparsed set: same answer.
          const once = decide(r.input, c.model, (q) => engine.authorizeOnce(compiled, q), request);
          assert.deepEqual(once, verdict);
          // The property test's reference evaluator agrees with the corpus (what it can judge).
          if (!r.reasons.some((x) => STRUCTURAL.has(x.code))) {
            const expected = {
              allow: r.decision === 'allow',
              ruleIds: r.reasons.map((x) => x.ruleId).sort(),
            };
            assert.deepEqual(
              referenceDecide(c.model, r.input),
              expected,
              'the reference evaluator',
            );
          }
        });
      }
    });
  }

  const refusals = corpus.flatMap((c) => c.refused.map((r) => ({ ...r, file: c.file })));
  describe('malformed models are refused by the admin side', () => {
    it('has malformed cases', () => assert.ok(refusals.length >= 30, `only ${refusals.length}`));

    for (const r of refusals.filter((x) => x.by === 'admin')) {
      it(`refuses ${r.name}, naming ${r.field}`, () => {
        const message = fromJson(PolicyModelSchema, r.model);
        assert.throws(
          () => modelFrom(message),
          (err: unknown) => {
            assert.ok(
              err instanceof InvalidArgumentError,
              `not an InvalidArgumentError: ${String(err)}`,
            );
            assert.equal(err.field, r.field);
            assert.ok(err.message.startsWith(r.field), err.message);
            return true;
          },
        );
      });
    }

    for (const r of refusals.filter((x) => x.by === 'cedar')) {
      it(`refuses ${r.name} at Cedar validation`, () => {
        const model = modelFrom(fromJson(PolicyModelSchema, r.model));
        const problems = engine.validate(compileModel(model));
        assert.ok(
          problems.some((p) => p.includes(r.field)),
          problems.join('\n'),
        );
      });
    }
  });
});
