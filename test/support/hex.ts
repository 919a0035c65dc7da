// The byte helpers live with the conformance kit, which the lab suite runs through.
export * from '../../src/conformance/bytes.js';
