import type { CodegenConfig } from '@graphql-codegen/cli';

/** Types for every `graphql()` document, generated from the committed API contract. */
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', Date: 'string', Time: 'string', Decimal: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
