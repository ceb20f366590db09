import type { ConformanceCase, SuiteName } from './case.ts';
import { discv4Cases } from './discv4/cases.ts';
import { discv5Cases } from './discv5/cases.ts';
import { rlpxCases } from './rlpx/cases.ts';

/**
 * Every case by suite: what `devp2p test <suite>` runs.
 * @example for (const c of SUITES.rlpx) console.log(c.name, c.description)
 */
export const SUITES: Readonly<Record<SuiteName, readonly ConformanceCase[]>> = {
  discv4: discv4Cases,
  discv5: discv5Cases,
  rlpx: rlpxCases,
};
