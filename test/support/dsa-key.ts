/**
 * The numbers of a node:crypto DSA key pair, read from its DER exports: node has no JWK export
 * for DSA, and the keying tests need p, q, g, x and y as integers.
 */
import type { KeyObject } from 'node:crypto';

/** A DSA key pair's domain parameters and keys. */
export interface DsaNumbers {
  p: bigint;
  q: bigint;
  g: bigint;
  /** Private key. */
  x: bigint;
  /** Public key, g^x mod p. */
  y: bigint;
}

interface Tlv {
  tag: number;
  body: Buffer;
}

/** The DER elements laid end to end in `der` (definite lengths only, as DER requires). */
function elements(der: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < der.length) {
    const tag = der[at++]!;
    let len = der[at++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[at++]!;
    }
    if (at + len > der.length) throw new Error(`DER element 0x${tag.toString(16)} runs past its container`);
    out.push({ tag, body: der.subarray(at, at + len) });
    at += len;
  }
  return out;
}

function expect(tlv: Tlv | undefined, tag: number, what: string): Buffer {
  if (tlv?.tag !== tag)
    throw new Error(`${what}: expected DER tag 0x${tag.toString(16)}, got ${tlv ? `0x${tlv.tag.toString(16)}` : 'nothing'}`);
  return tlv.body;
}

function integer(tlv: Tlv | undefined, what: string): bigint {
  const body = expect(tlv, 0x02, what);
  if (body.length === 0 || body[0]! & 0x80) throw new Error(`${what}: not a positive INTEGER`);
  return BigInt(`0x${body.toString('hex')}`);
}

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;

/** p, q and g of an AlgorithmIdentifier whose parameters are Dss-Parms (RFC 3279 §2.3.2). */
function dssParms(algorithm: Tlv | undefined): [bigint, bigint, bigint] {
  const [, params] = elements(expect(algorithm, SEQUENCE, 'AlgorithmIdentifier'));
  const [p, q, g] = elements(expect(params, SEQUENCE, 'Dss-Parms'));
  return [integer(p, 'p'), integer(q, 'q'), integer(g, 'g')];
}

/** The numbers of a DSA key pair made by node:crypto (PKCS#8 and SPKI exports). */
export function dsaNumbers(privateKey: KeyObject, publicKey: KeyObject): DsaNumbers {
  const [, algorithm, privateOctets] = elements(
    expect(elements(privateKey.export({ format: 'der', type: 'pkcs8' }))[0], SEQUENCE, 'PrivateKeyInfo'),
  );
  const [p, q, g] = dssParms(algorithm);
  const x = integer(elements(expect(privateOctets, OCTET_STRING, 'privateKey'))[0], 'x');
  const [, publicBits] = elements(expect(elements(publicKey.export({ format: 'der', type: 'spki' }))[0], SEQUENCE, 'SubjectPublicKeyInfo'));
  const bits = expect(publicBits, BIT_STRING, 'subjectPublicKey');
  if (bits[0] !== 0) throw new Error('subjectPublicKey: unused bits');
  const y = integer(elements(bits.subarray(1))[0], 'y');
  return { p, q, g, x, y };
}
