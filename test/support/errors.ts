// The error checks live with the conformance kit, which the lab suite runs through.
export * from '../../src/conformance/expect.js';
