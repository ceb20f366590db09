// `ctx.request` accepts only a protocol's declared request/response pairs. The `@ts-expect-error` lines below are
// checked by `tsc -p packages/core` (the typecheck): should the typing loosen, each one becomes an unused directive,
// which fails the build. At run time the same misuse is refused too, for untyped callers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToUtf8,
  defineProtocol,
  type MessageCodec,
  type ProtocolContext,
  rlpBigUint,
  rlpBytes,
  rlpDecode,
  rlpEncode,
  rlpList,
} from '../src/index.ts';
import { quietIO } from './quiet-io.ts';

interface Question {
  readonly requestId: bigint;
  readonly text: string;
}
interface Count {
  readonly requestId: bigint;
  readonly count: bigint;
}
const question: MessageCodec<Question> = {
  encode: (q) => rlpEncode([q.requestId, q.text]),
  decode: (b) => {
    const [id, text] = rlpList(rlpDecode(b), 'question', 2);
    return { requestId: rlpBigUint(id, 'id', 8), text: bytesToUtf8(rlpBytes(text, 'text')) };
  },
};
const count: MessageCodec<Count> = {
  encode: (c) => rlpEncode([c.requestId, c.count]),
  decode: (b) => {
    const [id, n] = rlpList(rlpDecode(b), 'count', 2);
    return { requestId: rlpBigUint(id, 'id', 8), count: rlpBigUint(n, 'count', 8) };
  },
};

const typed = defineProtocol({
  name: 'typed',
  version: 1,
  length: 4,
  messages: {
    Ask: { code: 0, codec: question },
    Answer: { code: 1, codec: question },
    CountWords: { code: 2, codec: question },
    Words: { code: 3, codec: count },
  },
  requests: { Ask: 'Answer', CountWords: 'Words' },
});

type TypedContext = NonNullable<ReturnType<typeof typed.context>>;

/** Never called: what matters is that `tsc` accepts the good calls and refuses the bad ones. */
async function typeChecks(ctx: TypedContext): Promise<void> {
  // The declared pairs, with their payloads and typed results.
  const answer: Question = await ctx.request('Ask', { text: 'why' }, 'Answer');
  const words: Count = await ctx.request('CountWords', { text: 'a b' }, 'Words', { check: (w) => void w.count });
  void [answer, words];

  // @ts-expect-error: Answer is a response, not a request.
  await ctx.request('Answer', { text: 'x' }, 'Ask');
  // @ts-expect-error: Ask is answered by Answer, not Words.
  await ctx.request('Ask', { text: 'x' }, 'Words');
  // @ts-expect-error: Ask's payload has text, a string.
  await ctx.request('Ask', { text: 42 }, 'Answer');
  // @ts-expect-error: Ask's payload lacks text.
  await ctx.request('Ask', {}, 'Answer');
  // @ts-expect-error: not a message at all.
  await ctx.request('Tell', { text: 'x' }, 'Answer');
  // @ts-expect-error: Words carries a count, not text.
  (await ctx.request('CountWords', { text: 'x' }, 'Words')).text;
  // @ts-expect-error: the check sees the response type (Question), which has no count.
  await ctx.request('Ask', { text: 'x' }, 'Answer', { check: (a) => void a.count });

  // A protocol without `requests` has nothing to request.
  const plain = {} as ProtocolContext<typeof typed.messages, undefined>;
  // @ts-expect-error: no pairs declared.
  await plain.request('Ask', { text: 'x' }, 'Answer');
}
void typeChecks;

describe('ctx.request pairs', () => {
  it('refuses an undeclared pair at run time as well', async () => {
    const instance = typed.attach(quietIO());
    await instance.start();
    const ctx = typed.context(instance)!;
    const untyped = ctx.request as (name: string, payload: object, response: string) => Promise<unknown>;
    await assert.rejects(untyped('Ask', { text: 'x' }, 'Words'), /Ask → Words is not in requests/);
    await assert.rejects(untyped('Answer', { text: 'x' }, 'Ask'), /Answer → Ask is not in requests/);
  });
});
