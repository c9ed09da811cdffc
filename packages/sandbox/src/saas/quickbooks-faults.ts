/** QuickBooks Online's fault bodies as the fake answers them. */
import type { FakeReply } from './fake-http.js';

/** QuickBooks' `time` field. */
export const time = () => new Date().toISOString().replace('Z', '-00:00');

/** A Fault body with its errors and type. */
export function fault(
  status: number,
  type: string,
  errors: { Message: string; Detail: string; code: string; element?: string }[],
): FakeReply {
  return {
    status,
    json: { Fault: { Error: errors.map((e) => ({ element: '', ...e })), type }, time: time() },
  };
}

/** The 610 fault of a missing entity. */
export const OBJECT_NOT_FOUND = (what: string) =>
  fault(400, 'ValidationFault', [
    {
      Message: 'Object Not Found',
      Detail: `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${what})`,
      code: '610',
    },
  ]);

/** The 2500 fault of a reference to a missing entity. */
export const INVALID_REFERENCE = (what: string) =>
  fault(400, 'ValidationFault', [
    {
      Message: 'Invalid Reference Id',
      Detail: `Invalid Reference Id : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${what})`,
      code: '2500',
    },
  ]);
