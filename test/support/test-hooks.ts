// The addon exports its test hooks (openLoopback, releaseLoopbacks) only when
// KCRYPTO_TEST_HOOKS=1 is in the environment as it loads: test files that use them import this
// module first, so that they also run on their own (node --test FILE).
process.env.KCRYPTO_TEST_HOOKS = '1';
