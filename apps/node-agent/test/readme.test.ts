import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@ambient-ts/vitest-preset/readme';
import { netnsSupport } from '@ambient-ts/netns';
import { isRoot } from '@ambient-ts/netns-topology';

const support = netnsSupport();
const reason = !isRoot ? 'needs root' : !support.available ? `needs the native addon (${support.reason})` : '';

it.skipIf(reason !== '')(
  `README example runs and prints what it promises${reason ? ` — skipped: ${reason}` : ''}`,
  async () => {
    const out = await runReadmeExample(join(import.meta.dirname, '..'));
    expect(out).toBe(
      [
        'Add cluster1//v1/Pod/default/productpage default/productpage sa=bookinfo-productpage netns inode true',
        'Add cluster1//v1/Pod/default/ratings default/ratings sa=default netns inode true',
        'SnapshotSent',
        'default/productpage 10.0.2.5 ready',
        'default/ratings 10.0.2.6 ready',
        '',
      ].join('\n'),
    );
  },
);
