/**
 * `@devp2p/conformance`: named protocol conformance cases to run against any node, over discv4 and discv5 (UDP) and RLPx (TCP:
 * the handshake, the p2p base protocol, snappy, and the eth Status exchange).
 */
export {
  CaseContext,
  type CaseDefinition,
  CaseFailure,
  type CaseResult,
  type ConformanceCase,
  defineCase,
  Inbox,
  type NamedCaseResult,
  type RunCasesOptions,
  type RunOptions,
  runCases,
  type SuiteName,
} from './case.ts';
export * from './constants.ts';
export { discv4Cases } from './discv4/cases.ts';
export { discv5Cases } from './discv5/cases.ts';
export { rlpxCases, snappyRun } from './rlpx/cases.ts';
export { SUITES } from './suites.ts';
