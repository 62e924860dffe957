import fc from 'fast-check';
import { StreamFramer, type Frame, type FramerProblem } from '../../src/collector/framing';

interface Collected {
  frames: Frame[];
  problems: FramerProblem[];
  framer: StreamFramer;
}

function framer(maxFrameBytes = 1024): Collected {
  const frames: Frame[] = [];
  const problems: FramerProblem[] = [];
  const instance = new StreamFramer({ maxFrameBytes, onFrame: (frame) => frames.push(frame), onProblem: (problem) => problems.push(problem) });
  return { frames, problems, framer: instance };
}

const octet = (message: string | Buffer): Buffer => {
  const body = typeof message === 'string' ? Buffer.from(message) : message;
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
};

const texts = (frames: Frame[]): string[] => frames.map((frame) => frame.data.toString('latin1'));

/** Split a buffer at the given cut points (any order, duplicates fine). */
function chunked(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(data.subarray(from, point));
    from = point;
  }
  chunks.push(data.subarray(from));
  return chunks;
}

describe('StreamFramer', () => {
  it('splits octet-counted frames, counting bytes not characters, with LF and spaces inside', () => {
    const { frames, framer: f } = framer();
    f.push(Buffer.concat([octet('<13>1 - - - - - - héllo\nworld'), octet('<14>1 - - - - - - [x] y ')]));
    expect(frames.map((frame) => frame.data.toString('utf8'))).toEqual(['<13>1 - - - - - - héllo\nworld', '<14>1 - - - - - - [x] y ']);
    expect(frames.every((frame) => frame.framing === 'octet' && !frame.truncated)).toBe(true);
  });

  it('splits LF-terminated frames from senders that cannot count, dropping CR, and mixes both per frame', () => {
    const { frames, framer: f } = framer();
    f.push(Buffer.from('<13>first line\r\n'));
    f.push(octet('<13>1 counted'));
    f.push(Buffer.from('\n\n<14>second\n'));
    expect(texts(frames)).toEqual(['<13>first line', '<13>1 counted', '<14>second']);
    expect(frames.map((frame) => frame.framing)).toEqual(['lf', 'octet', 'lf']);
  });

  it('skips LF, CR, NUL and blanks between frames (trailing LF after an octet-counted frame)', () => {
    const { frames, framer: f } = framer();
    f.push(Buffer.concat([octet('<1>a'), Buffer.from('\n\r\0 \t'), octet('<2>b'), Buffer.from('\n')]));
    expect(texts(frames)).toEqual(['<1>a', '<2>b']);
    expect(f.hasPartialFrame).toBe(false);
  });

  it('cuts an oversized octet-counted frame at the cap and discards the rest of it, not turning it into frames', () => {
    const { frames, problems, framer: f } = framer(16);
    const big = `<13>${'A'.repeat(40)}\n5 <1>x${'B'.repeat(10)}`;
    f.push(Buffer.concat([octet(big), octet('<13>next')]));
    expect(texts(frames)).toEqual([big.slice(0, 16), '<13>next']);
    expect(frames[0].truncated).toBe(true);
    expect(frames[1].truncated).toBe(false);
    expect(problems).toEqual(['oversize']);
  });

  it('cuts an oversized LF frame at the cap and discards up to its LF', () => {
    const { frames, problems, framer: f } = framer(8);
    f.push(Buffer.from('<13>0123456789'));
    f.push(Buffer.from('abcdef\n<14>ok\n'));
    expect(texts(frames)).toEqual(['<13>0123', '<14>ok']);
    expect(frames[0].truncated).toBe(true);
    expect(problems).toEqual(['oversize']);
  });

  it('keeps a count that is not digits as an LF frame and counts it', () => {
    const { frames, problems, framer: f } = framer();
    f.push(Buffer.from('12x <13>junk\n0 <13>zero\n1234567890 ten digits\n'));
    expect(texts(frames)).toEqual(['12x <13>junk', '0 <13>zero', '1234567890 ten digits']);
    expect(problems).toEqual(['bad_octet_count', 'bad_octet_count', 'bad_octet_count']);
  });

  it('holds a frame whose count is larger than what follows, and delivers it truncated on flush', () => {
    const { frames, framer: f } = framer();
    f.push(Buffer.from('100 <13>1 short'));
    expect(frames).toEqual([]);
    expect(f.hasPartialFrame).toBe(true);
    expect(f.flush()).toBe(true);
    expect(texts(frames)).toEqual(['<13>1 short']);
    expect(frames[0].truncated).toBe(true);
    expect(f.hasPartialFrame).toBe(false);
  });

  it('counts an octet frame cut short before any byte as empty, and delivers an LF frame without its LF whole', () => {
    const a = framer();
    a.framer.push(Buffer.from('42 '));
    expect(a.framer.flush()).toBe(false);
    expect(a.problems).toEqual(['empty_frame']);
    const b = framer();
    b.framer.push(Buffer.from('<13>no newline at close'));
    b.framer.flush();
    expect(texts(b.frames)).toEqual(['<13>no newline at close']);
    expect(b.frames[0].truncated).toBe(false);
    const c = framer();
    c.framer.push(Buffer.from('123'));
    c.framer.flush();
    expect(texts(c.frames)).toEqual(['123']);
    expect(c.frames[0].truncated).toBe(true);
  });

  it('keeps memory bounded under a flood without a single LF', () => {
    const { frames, framer: f } = framer(1024);
    const junk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 64; i++) f.push(junk);
    expect(frames).toEqual([]);
    expect(f.bufferedBytes).toBeLessThanOrEqual(1024);
  });

  const message = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes));

  it('property: any chunking of valid octet-counted frames yields exactly the same frames', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 40 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => octet(m)));
        const { frames, problems, framer: f } = framer(4096);
        for (const chunk of chunked(stream, cuts)) f.push(chunk);
        expect(problems).toEqual([]);
        expect(f.hasPartialFrame).toBe(false);
        expect(frames.map((frame) => frame.data.toString('hex'))).toEqual(messages.map((m) => m.toString('hex')));
        expect(frames.every((frame) => !frame.truncated)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('property: chunking never changes the frames, for octet and LF frames mixed, over the cap or not', () => {
    // LF frames: start with `<`, no LF inside.
    const lfMessage = fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.concat([Buffer.from('<'), Buffer.from(bytes.filter((b) => b !== 0x0a))]));
    const item = fc.oneof(
      message.map((m) => ({ wire: octet(m) })),
      lfMessage.map((m) => ({ wire: Buffer.concat([m, Buffer.from('\n')]) })),
    );
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 15 }), fc.array(fc.nat(), { maxLength: 40 }), (items, cuts) => {
        const stream = Buffer.concat(items.map((i) => i.wire));
        const whole = framer(64);
        whole.framer.push(stream);
        const split = framer(64);
        for (const chunk of chunked(stream, cuts)) split.framer.push(chunk);
        expect(split.frames.map((frame) => [frame.data.toString('hex'), frame.truncated, frame.framing])).toEqual(
          whole.frames.map((frame) => [frame.data.toString('hex'), frame.truncated, frame.framing]),
        );
        expect(split.frames).toHaveLength(items.length);
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes never throw and never exceed the cap per frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const { frames, framer: f } = framer(50);
        for (const chunk of chunks) f.push(Buffer.from(chunk));
        f.flush();
        expect(frames.every((frame) => frame.data.length <= 50)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
