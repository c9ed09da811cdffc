/** Salesforce's JSON as the fake answers it: error arrays, record attributes, type lookup. */
import type { FakeReply } from './fake-http.js';
import { SOBJECTS, type SObjectType } from './salesforce-data.js';

/** Salesforce's error body: an array of `{message, errorCode}`. */
export const sfError = (
  status: number,
  errorCode: string,
  message: string,
  extra: object = {},
): FakeReply => ({
  status,
  json: [{ message, errorCode, ...extra }],
});

/** The 404 of an unknown resource, type or record. */
export const NOT_FOUND = sfError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** An sObject type by name, case-insensitively. */
export function typeOf(name: string | undefined): SObjectType | undefined {
  return SOBJECTS.find((t) => t.name.toLowerCase() === name?.toLowerCase());
}

/** The `attributes` envelope of a record. */
export function attributes(type: string, id: unknown, version: string) {
  return {
    type,
    url: `/services/data/v${version}/sobjects/${type}/${typeof id === 'string' ? id : ''}`,
  };
}
