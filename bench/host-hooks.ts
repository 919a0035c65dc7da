// The addon exports its loopback engine only when KCRYPTO_TEST_HOOKS=1 is in the environment as
// it loads: host.ts imports this module before anything that loads the addon. The hooks add
// exports only; the drivers the default session uses are the same with or without them.
process.env['KCRYPTO_TEST_HOOKS'] = '1';
