// Reads Parquet files with DuckDB (an independent Parquet implementation)
// and prints {"schema": {file: [[name, type], ...]}, "rows": {file: [row, ...]}}
// as JSON, rows in file order. Usage: node duckdb_read.mjs <node_modules> <file>...
import { createRequire } from 'node:module';
import path from 'node:path';

const [nodeModules, ...files] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, 'noop.js'));
const { DuckDBInstance } = require('@duckdb/node-api');

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const out = { schema: {}, rows: {} };
for (const f of files) {
  const lit = "'" + f.replaceAll("'", "''") + "'";
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit})`);
  out.schema[f] = desc.getRowObjectsJson().map(r => [r.column_name, r.column_type]);
  const res = await conn.runAndReadAll(
    `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${lit}, file_row_number=true) ORDER BY file_row_number`);
  out.rows[f] = res.getRowObjectsJson();
}
process.stdout.write(JSON.stringify(out));
