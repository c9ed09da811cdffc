import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { pricePlan, validatePrices, type CustomPrices } from '../../src/domain/price-plan.js';

const ZT: CustomPrices = {
  singleCents: 400,
  bundleCents: 700,
  packMax: 200,
  overageSingleCents: 480,
  overageBundleCents: 840,
};
const field = (want: string) => (err: unknown) =>
  err instanceof InvalidArgumentError && err.field === want;

describe('price plans', () => {
  it('lists SOHO and Bank with overage at 1.25×', () => {
    assert.deepEqual(pricePlan('soho', undefined), {
      tier: 'soho',
      rates: { single: 300, bundle: 500, overageSingle: 375, overageBundle: 625 },
      packMin: 2,
      packMax: 5,
    });
    assert.deepEqual(pricePlan('bank', undefined).rates, {
      single: 500,
      bundle: 800,
      overageSingle: 625,
      overageBundle: 1000,
    });
  });

  it('takes Zero Trust prices from the account, with no defaults', () => {
    assert.deepEqual(validatePrices('zero_trust', ZT), ZT);
    assert.equal(pricePlan('zero_trust', ZT).packMax, 200);
    assert.throws(() => validatePrices('zero_trust', undefined), field('custom_prices'));
  });

  const bad: Array<{ name: string; prices: CustomPrices; field: string }> = [
    { name: 'zero price', prices: { ...ZT, singleCents: 0 }, field: 'custom_prices.single_cents' },
    {
      name: 'fractional cents',
      prices: { ...ZT, bundleCents: 700.5 },
      field: 'custom_prices.bundle_cents',
    },
    {
      name: 'bundle dearer than both',
      prices: { ...ZT, bundleCents: 801 },
      field: 'custom_prices.bundle_cents',
    },
    { name: 'pack below 150', prices: { ...ZT, packMax: 149 }, field: 'custom_prices.pack_max' },
    {
      name: 'overage missing',
      prices: { ...ZT, overageSingleCents: 0 },
      field: 'custom_prices.overage_single_cents',
    },
  ];
  for (const c of bad)
    it(`refuses Zero Trust prices with ${c.name}`, () => {
      assert.throws(() => validatePrices('zero_trust', c.prices), field(c.field));
    });

  it('refuses custom prices on a list tier', () => {
    assert.throws(() => validatePrices('bank', ZT), field('custom_prices'));
  });
});
