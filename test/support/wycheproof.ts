// The Wycheproof loader lives with the conformance kit, which ships the vectors.
export * from '../../src/conformance/vectors.js';
