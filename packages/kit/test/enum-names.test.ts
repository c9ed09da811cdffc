import assert from 'node:assert/strict';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { productFromName, productName, tierFromName, tierName } from '../src/enum-names.js';

describe('tier names', () => {
  const tiers = [
    { name: 'soho', tier: Tier.SOHO },
    { name: 'bank', tier: Tier.BANK },
    { name: 'zero_trust', tier: Tier.ZERO_TRUST },
  ];
  for (const c of tiers) {
    it(`maps "${c.name}" both ways`, () => {
      assert.equal(tierName(c.tier), c.name);
      assert.equal(tierFromName(c.name), c.tier);
    });
  }
  const unknown = ['', 'SOHO', 'enterprise'];
  for (const name of unknown) {
    it(`maps unknown name ${JSON.stringify(name)} to UNSPECIFIED`, () =>
      assert.equal(tierFromName(name), Tier.UNSPECIFIED));
  }
  // BUG: enum-names.ts looks names up in a plain object literal, so names of Object.prototype
  // members ("toString", "constructor", "__proto__") return a function or an object instead of
  // UNSPECIFIED. Fix: a null-prototype object or a Map, or guard with Object.hasOwn.
  it('maps names of Object.prototype members to UNSPECIFIED', () => {
    for (const name of ['toString', 'constructor', '__proto__'])
      assert.equal(tierFromName(name), Tier.UNSPECIFIED, name);
  });
  it('has no name for UNSPECIFIED', () => assert.equal(tierName(Tier.UNSPECIFIED), undefined));
});

describe('product names', () => {
  const products = [
    { name: 'mcp', product: Product.MCP },
    { name: 'pat', product: Product.PAT },
    { name: 'admin', product: Product.ADMIN },
  ];
  for (const c of products) {
    it(`maps "${c.name}" both ways`, () => {
      assert.equal(productName(c.product), c.name);
      assert.equal(productFromName(c.name), c.product);
    });
  }
  const unknown = ['', 'PAT', 'billing'];
  for (const name of unknown) {
    it(`maps unknown name ${JSON.stringify(name)} to UNSPECIFIED`, () =>
      assert.equal(productFromName(name), Product.UNSPECIFIED));
  }
  // BUG: same plain-object lookup as tierFromName (see above).
  it('maps names of Object.prototype members to UNSPECIFIED', () => {
    for (const name of ['hasOwnProperty', 'valueOf', '__proto__']) {
      assert.equal(productFromName(name), Product.UNSPECIFIED, name);
    }
  });
  it('has no name for UNSPECIFIED', () =>
    assert.equal(productName(Product.UNSPECIFIED), undefined));
});
