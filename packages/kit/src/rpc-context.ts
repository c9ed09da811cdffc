import { createContextKey } from '@connectrpc/connect';

/** The SPIFFE id of the mTLS peer that made the call ("" when none). */
export const peerIdKey = createContextKey<string>('', { description: 'mTLS peer SPIFFE id' });
