/** The benchmark's command line (see run.ts). */

export const FIXTURE_ABIS = ['linux', 'freebsd', 'netbsd'] as const;
export type FixtureAbi = (typeof FIXTURE_ABIS)[number];

export interface Options {
  seconds: number;
  quick: boolean;
  out?: string;
  lab: boolean;
  kernel?: string;
  harnessTest: boolean;
  /** Run under the CUSE /dev/crypto fixture speaking this ABI. */
  devcryptoFixture?: FixtureAbi;
  /** Arguments to pass on to the guest run (lab mode). */
  forward: string[];
}

export function usage(): never {
  process.stderr.write(
    'usage: run.js [--quick | --seconds S] [--out FILE] [--lab [--kernel V]] [--devcrypto-fixture linux|freebsd|netbsd] [--harness-test]\n',
  );
  process.exit(2);
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 1, quick: false, lab: false, harnessTest: false, forward: [] };
  let secondsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage();
      return v;
    };
    switch (a) {
      case '--quick':
        o.quick = true;
        o.forward.push(a);
        break;
      case '--seconds': {
        const v = value();
        o.seconds = Number(v);
        if (!(o.seconds > 0 && o.seconds <= 60)) usage();
        secondsGiven = true;
        o.forward.push(a, v);
        break;
      }
      case '--out':
        o.out = value();
        break;
      case '--lab':
        o.lab = true;
        break;
      case '--kernel':
        o.kernel = value();
        break;
      case '--harness-test':
        o.harnessTest = true;
        o.forward.push(a);
        break;
      case '--devcrypto-fixture': {
        const v = value();
        if (!(FIXTURE_ABIS as readonly string[]).includes(v)) usage();
        o.devcryptoFixture = v as FixtureAbi;
        break;
      }
      case '-h':
      case '--help':
        usage();
        break;
      default:
        process.stderr.write(`run.js: unknown argument ${a}\n`);
        usage();
    }
  }
  if (o.quick && !secondsGiven) o.seconds = 0.2;
  return o;
}
