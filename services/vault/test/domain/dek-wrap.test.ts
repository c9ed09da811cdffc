import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  newDek,
  unwrapDekAes,
  unwrapDekEc,
  wrapDekAes,
  wrapDekEc,
  WRAP_FORMAT,
  type KeyBinding,
} from '../../src/domain/dek-wrap.js';

/** A P-256 key pair as KMS hands it out: PKCS#8 DER private key, SPKI DER public key. */
function p256() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    priv: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    pub: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

const binding: KeyBinding = { orgId: 'org_a1', credentialId: 'cred_1', version: 3, epoch: 2 };

/** Both schemes behind one shape: wrap with what writers have, unwrap with what readers have. */
const schemes = [
  {
    name: 'aes (SOHO, Bank)',
    format: WRAP_FORMAT.aes,
    keys: () => {
      const k = randomBytes(32);
      return { wrapKey: k, unwrap: (w: Buffer, b: KeyBinding) => unwrapDekAes(k, w, b) };
    },
    wrap: wrapDekAes,
  },
  {
    name: 'ECDH P-256 (Zero Trust)',
    format: WRAP_FORMAT.ec,
    keys: () => {
      const { priv, pub } = p256();
      return {
        wrapKey: pub,
        unwrap: (w: Buffer, b: KeyBinding) => unwrapDekEc(priv, pub, w, b),
      };
    },
    wrap: wrapDekEc,
  },
];

describe('credential key wrapping', () => {
  for (const s of schemes) {
    describe(s.name, () => {
      it('unwraps what it wrapped, with its format byte first and the key never in the clear', () => {
        const { wrapKey, unwrap } = s.keys();
        const dek = newDek();
        const wrapped = s.wrap(wrapKey, dek, binding);
        assert.equal(wrapped[0], s.format);
        assert.equal(wrapped.indexOf(dek), -1);
        assert.deepEqual(unwrap(wrapped, binding), dek);
      });

      const moved = [
        { name: 'another org', to: { ...binding, orgId: 'org_b2' } },
        { name: 'another credential', to: { ...binding, credentialId: 'cred_2' } },
        { name: 'another version', to: { ...binding, version: 4 } },
        { name: 'another epoch', to: { ...binding, epoch: 3 } },
      ];
      for (const m of moved) {
        it(`fails to unwrap a key moved to ${m.name}`, () => {
          const { wrapKey, unwrap } = s.keys();
          const wrapped = s.wrap(wrapKey, newDek(), binding);
          assert.throws(() => unwrap(wrapped, m.to));
        });
      }

      it("fails to unwrap with another org's key", () => {
        const mine = s.keys();
        const theirs = s.keys();
        assert.throws(() => theirs.unwrap(s.wrap(mine.wrapKey, newDek(), binding), binding));
      });

      it('fails to unwrap after any single-bit flip', () => {
        const { wrapKey, unwrap } = s.keys();
        const wrapped = s.wrap(wrapKey, newDek(), binding);
        for (let byte = 0; byte < wrapped.length; byte++) {
          const altered = Buffer.from(wrapped);
          altered[byte] = (altered[byte] ?? 0) ^ 0x01;
          assert.throws(() => unwrap(altered, binding), Error, `byte ${byte}`);
        }
      });
    });
  }

  it('refuses one scheme’s wrapped key as the other’s format', () => {
    const k = randomBytes(32);
    const { priv, pub } = p256();
    assert.throws(
      () => unwrapDekEc(priv, pub, wrapDekAes(k, newDek(), binding), binding),
      /unsupported wrapped key format/,
    );
    assert.throws(
      () => unwrapDekAes(k, wrapDekEc(pub, newDek(), binding), binding),
      /unsupported wrapped key format/,
    );
  });

  it('wraps to a public key with a fresh ephemeral key each time', () => {
    const { pub } = p256();
    const dek = newDek();
    const eph = new Set(
      Array.from({ length: 20 }, () =>
        wrapDekEc(pub, dek, binding).subarray(1, 66).toString('hex'),
      ),
    );
    assert.equal(eph.size, 20);
  });
});
