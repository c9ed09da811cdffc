import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCedarEngine } from '../../src/adapters/cedar/cedar-engine.js';
import { cedarRequest, type DecisionInput } from '../../src/domain/cedar-request.js';
import { compileModel } from '../../src/domain/compile.js';
import { decide } from '../../src/domain/decide.js';
import type { OrgModel } from '../../src/domain/model.js';
import { modelFrom } from '../../src/rpc/model-from-proto.js';
import { modelToProto } from '../../src/rpc/model-to-proto.js';
import { decisionInput, orgModel } from '../support/policy-arbitraries.js';
import { referenceDecide } from '../support/reference-policy.js';

// The compiled Cedar policy against a plain reference evaluator of the three-layer model, on
// random models and requests. Each model is compiled and preparsed once and then asked many
// requests, as the service does. `npm run test:policy-property` runs a million cases.
const CASES = Number(process.env['FORTRESS_PROPERTY_RUNS'] ?? 100_000);
const PER_MODEL = 1000;
const SEED = process.env['FORTRESS_PROPERTY_SEED'];
const ORG = 'org_property';

/** A disagreement, with everything needed to reproduce it by hand. */
function disagreement(
  model: OrgModel,
  input: DecisionInput,
  cedar: unknown,
  reference: unknown,
): string {
  const { principal, ...rest } = input;
  const who = {
    kind: principal.kind,
    roles: principal.roles,
    patKeyId: principal.patKeyId,
    attributes: principal.attributes,
  };
  return `Cedar and the reference disagree\nmodel: ${JSON.stringify(model)}\nrequest: ${JSON.stringify({ ...rest, principal: who })}\ncedar: ${JSON.stringify(cedar)}\nreference: ${JSON.stringify(reference)}`;
}

describe('compiled policy vs the reference evaluator (property)', () => {
  it(`agrees on the decision and the determining rules for ${CASES} random requests`, function () {
    this.timeout(Math.max(120_000, CASES * 2));
    const engine = createCedarEngine();
    const seen = new Map<string, number>();
    let cases = 0;
    const started = performance.now();

    const agrees = (model: OrgModel, inputs: DecisionInput[]) => {
      modelFrom(modelToProto(model)); // the generator stays inside what admins can save
      const compiled = compileModel(model);
      assert.deepEqual(
        engine.validate(compiled),
        [],
        'a valid model compiles to a valid policy set',
      );
      engine.load(ORG, compiled);
      inputs.forEach((input, i) => {
        const request = cedarRequest(input, compiled.zones);
        const verdict = decide(input, model, (q) => engine.authorize(ORG, q), request);
        const cedar = {
          allow: verdict.allow,
          ruleIds: verdict.reasons.map((r) => r.ruleId).sort(),
        };
        const reference = referenceDecide(model, input);
        if (JSON.stringify(cedar) !== JSON.stringify(reference)) {
          throw new Error(disagreement(model, input, cedar, reference));
        }
        if (i === 0) {
          // Simulate's path (not preparsed) must give the same verdict.
          assert.deepEqual(
            decide(input, model, (q) => engine.authorizeOnce(compiled, q), request),
            verdict,
          );
        }
        for (const r of verdict.reasons) seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
        cases += 1;
      });
    };

    fc.assert(
      fc.property(
        orgModel,
        fc.array(decisionInput, { minLength: PER_MODEL, maxLength: PER_MODEL }),
        agrees,
      ),
      {
        numRuns: Math.ceil(CASES / PER_MODEL),
        endOnFailure: true,
        ...(SEED ? { seed: Number(SEED) } : {}),
      },
    );

    const seconds = (performance.now() - started) / 1000;
    console.log(
      `      ${cases} cases on ${Math.ceil(CASES / PER_MODEL)} models in ${seconds.toFixed(1)} s; reasons: ${JSON.stringify(Object.fromEntries(seen))}`,
    );
    assert.ok(cases >= CASES, `only ${cases} cases ran`);
    // Not vacuous: every outcome the model can produce came up many times.
    const outcomes = [
      'allowed',
      'not_permitted',
      'disabled',
      'denied_by_role',
      'outside_time_window',
      'ip_not_allowed',
      'attribute_mismatch',
      'model_blocked',
      'max_tokens_exceeded',
    ];
    const least = CASES >= 100_000 ? CASES / 1000 : 0;
    for (const code of outcomes)
      assert.ok(
        (seen.get(code) ?? 0) > least,
        `too few "${code}" outcomes: ${seen.get(code) ?? 0}`,
      );
  });
});
