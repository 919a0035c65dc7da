// ESLint for the TypeScript sources (type-aware: the rules read the types of tsconfig.json's
// program) and, without type information, for the plain JavaScript scripts.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'build-asan/', 'build-fuzz/', 'node_modules/', '.kcrypto-cache/', 'bench/bin/', 'vectors/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/consistent-type-exports': ['error', { fixMixedExportsWithInlineTypeSpecifier: true }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // tsconfig's noUncheckedIndexedAccess makes `a[i]!` the way to say "this index exists"
      // (lengths checked just above, tables indexed by their own keys); flagging each of them is noise.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Numbers and booleans print as expected in messages; nullish and objects still fail.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `process.env['NAME']` and table['KEY'] mark lookups in an index signature (may be absent).
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      // `() => resolve()` callbacks and `return voidCall()` in a void function are idiom, not confusion.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true }],
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      // `const { dropped: _, ...rest } = o` is how the code leaves a property out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `close: () => {}` is how a driver with nothing to release says so.
      '@typescript-eslint/no-empty-function': ['error', { allow: ['arrowFunctions'] }],
      // Passing on a caught `unknown` (the error of a kernel call) is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `process.env['CC'] || 'cc'` and `image[0x1f1] || 4` mean "empty or 0 counts as unset";
      // ?? on strings and numbers would change behaviour, not style.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true, number: true } }],
      // Noise here: the library validates what untyped JavaScript callers and JSON files pass
      // (`typeof spec !== 'object'` where the type says object), and flags set from callbacks
      // (`stopped`, `again`) are invisible to TypeScript's narrowing; each would need a disable comment.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    // Programs that talk to a terminal.
    files: ['src/cli/**', 'src/lab/**', 'test/lab/**', 'bench/**', 'scripts/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Node defines these globals as accessors: each use in compiled code is a global lookup and a
    // getter call, which shows on a small request's path. Imported, they are plain bindings.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: "import { Buffer } from 'node:buffer'" },
        { name: 'performance', message: "import { performance } from 'node:perf_hooks'" },
      ],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
