import assert from 'node:assert/strict';
import { sampleToolInput } from '../../src/anthropic/tool-input.js';

describe('sampleToolInput', () => {
  const cases: ReadonlyArray<{
    name: string;
    schema: Record<string, unknown>;
    expected: Record<string, unknown>;
  }> = [
    {
      name: 'required properties only, with enums, minimums and a location',
      schema: {
        type: 'object',
        properties: {
          location: { type: 'string' },
          unit: { enum: ['f', 'c'] },
          n: { type: 'integer', minimum: 5 },
          note: { type: 'string' },
        },
        required: ['location', 'unit', 'n'],
      },
      expected: { location: 'San Francisco, CA', unit: 'f', n: 5 },
    },
    {
      name: 'every property when none is required',
      schema: {
        type: 'object',
        properties: {
          flag: { type: 'boolean' },
          tags: { type: 'array', items: { type: 'string' } },
          when: { type: 'string', format: 'date' },
        },
      },
      expected: { flag: true, tags: ['sample tags'], when: '2025-01-15' },
    },
    {
      name: 'const, default, nullable types and nested objects',
      schema: {
        type: 'object',
        properties: {
          kind: { const: 'x' },
          size: { type: 'number', default: 3 },
          maybe: { type: ['null', 'string'] },
          inner: { properties: { city: { type: 'string' } } },
        },
      },
      expected: { kind: 'x', size: 3, maybe: 'sample maybe', inner: { city: 'San Francisco, CA' } },
    },
    {
      name: 'an empty object for a schema without properties',
      schema: { type: 'object' },
      expected: {},
    },
  ];
  for (const c of cases) {
    it(`samples ${c.name}`, () => {
      assert.deepEqual(sampleToolInput(c.schema), c.expected);
    });
  }
});
