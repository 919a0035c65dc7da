/**
 * Several cards behind one kernel driver name: the kernel binds each transform to one card
 * when it is created (virtio-crypto picks the card with the fewest transforms), and nothing in
 * a request can choose another. So a session on such a driver opens one transform per card and
 * sends each request to the transform holding the fewest requests (the next in turn on a tie).
 * Stateless requests only: ciphers and AEADs. A running hash stays on its transform.
 */
import type { AeadTransform, CipherTransform, Maybe } from '../common/transforms.js';

/** Picks the least busy of `n` lanes and counts its request until it settles. */
class Lanes {
  private readonly busy: number[];
  private next = 0;

  constructor(n: number) {
    this.busy = new Array<number>(n).fill(0);
  }

  run<T>(job: (i: number) => Maybe<T>): Maybe<T> {
    let best = this.next;
    for (let k = 1; k < this.busy.length; k++) {
      const i = (this.next + k) % this.busy.length;
      if (this.busy[i]! < this.busy[best]!) best = i;
    }
    this.next = (best + 1) % this.busy.length;
    this.busy[best]!++;
    const release = (): void => {
      this.busy[best]!--;
    };
    let r: Maybe<T>;
    try {
      r = job(best);
    } catch (err) {
      release();
      throw err;
    }
    if (!(r instanceof Promise)) {
      release();
      return r;
    }
    return r.then(
      (v) => (release(), v),
      (err: unknown) => {
        release();
        throw err;
      },
    );
  }
}

function closeAll(ts: readonly { close(): Maybe<void> }[]): Promise<void> {
  return Promise.all(ts.map((t) => Promise.resolve(t.close()))).then(() => undefined);
}

/** One cipher over several transforms of the same key. */
export function spreadCipher(ts: readonly CipherTransform[]): CipherTransform {
  if (ts.length === 1) return ts[0]!;
  const lanes = new Lanes(ts.length);
  return {
    kind: 'cipher',
    ...(ts.every((t) => t.guardsOutput) ? { guardsOutput: true } : {}),
    run: (encrypt, iv, data, key, into, disposable) => lanes.run((i) => ts[i]!.run(encrypt, iv, data, key, into, disposable)),
    close: () => closeAll(ts),
  };
}

/** One AEAD over several transforms of the same key. */
export function spreadAead(ts: readonly AeadTransform[]): AeadTransform {
  if (ts.length === 1) return ts[0]!;
  const lanes = new Lanes(ts.length);
  const first = ts[0]!;
  return {
    kind: 'aead',
    ...(first.maxRequest !== undefined ? { maxRequest: first.maxRequest } : {}),
    seal: (iv, aad, data, tagLength, key) => lanes.run((i) => ts[i]!.seal(iv, aad, data, tagLength, key)),
    open: (iv, aad, data, tag, key) => lanes.run((i) => ts[i]!.open(iv, aad, data, tag, key)),
    close: () => closeAll(ts),
  };
}
