import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the schema; it never needs a live database for that.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
