import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { presentedCredentials } from '../../src/http/credentials.js';

const KEY = 'fk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg';
const TOKEN = 'fk_tok_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ1c2VyIn0.c2ln';

describe('presentedCredentials', () => {
  const cases: Array<{
    name: string;
    headers: IncomingHttpHeaders;
    apiKey: string;
    idpToken: string;
  }> = [
    { name: 'the key in x-api-key', headers: { 'x-api-key': KEY }, apiKey: KEY, idpToken: '' },
    {
      name: 'the key in x-api-key with surrounding spaces',
      headers: { 'x-api-key': `  ${KEY} ` },
      apiKey: KEY,
      idpToken: '',
    },
    {
      name: 'the key as Authorization: Bearer fk_…',
      headers: { authorization: `Bearer ${KEY}` },
      apiKey: KEY,
      idpToken: '',
    },
    {
      name: 'a Fortress token as Authorization: Bearer fk_tok_… (what an SDK sends after an exchange)',
      headers: { authorization: `Bearer ${TOKEN}` },
      apiKey: TOKEN,
      idpToken: '',
    },
    {
      name: 'a lowercase "bearer" scheme',
      headers: { authorization: `bearer ${KEY}` },
      apiKey: KEY,
      idpToken: '',
    },
    {
      name: 'a JWT bearer alongside x-api-key (Bank / Zero Trust)',
      headers: { 'x-api-key': KEY, authorization: `Bearer ${JWT}` },
      apiKey: KEY,
      idpToken: JWT,
    },
    {
      name: 'a JWT bearer alone',
      headers: { authorization: `Bearer ${JWT}` },
      apiKey: '',
      idpToken: JWT,
    },
    {
      name: 'x-api-key and a Bearer fk_… (x-api-key wins, no IdP token)',
      headers: { 'x-api-key': KEY, authorization: 'Bearer fk_test_other' },
      apiKey: KEY,
      idpToken: '',
    },
    { name: 'no credentials', headers: {}, apiKey: '', idpToken: '' },
    {
      name: 'both headers empty',
      headers: { 'x-api-key': '', authorization: '' },
      apiKey: '',
      idpToken: '',
    },
    {
      name: 'a Basic authorization',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      apiKey: '',
      idpToken: '',
    },
    {
      name: 'a Bearer with no token',
      headers: { authorization: 'Bearer ' },
      apiKey: '',
      idpToken: '',
    },
    {
      name: 'a Bearer with two tokens',
      headers: { authorization: `Bearer ${KEY} ${JWT}` },
      apiKey: '',
      idpToken: '',
    },
  ];
  for (const c of cases) {
    it(`reads ${c.name}`, () => {
      assert.deepEqual(presentedCredentials(c.headers), { apiKey: c.apiKey, idpToken: c.idpToken });
    });
  }
});
