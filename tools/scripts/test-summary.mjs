// Sums vitest JSON reports (one per project, written by tools/vitest-preset) into the one line CI reads:
// "tests: N passed, M failed". A project whose run crashed before reporting counts as one failure.
// Plain .mjs so it runs on whatever node is on PATH.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.reports/vitest';
// Projects that should have reported (names as nx knows them); each missing report is a failure.
const expected = process.argv.slice(3);
const files = [];
const walk = (path) => {
  for (const entry of readdirSync(path)) {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) walk(full);
    else if (entry.endsWith('.json')) files.push(full);
  }
};
try {
  walk(dir);
} catch {
  // no reports at all: counted below
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += (report.numFailedTests ?? 0) + (report.success === false && !report.numFailedTests ? 1 : 0);
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    for (const result of report.testResults ?? []) {
      if (result.status === 'failed' && (result.assertionResults ?? []).length === 0) failed += 1; // suite failed to load
    }
  } catch (error) {
    console.error(`unreadable report ${file}: ${error.message}`);
    failed += 1;
  }
}
for (const name of expected) {
  if (!files.some((file) => file.endsWith(`${name}.json`))) {
    console.error(`project ${name} wrote no test report (its test run crashed or never started)`);
    failed += 1;
  }
}
if (files.length === 0) {
  console.error(`no vitest reports found under ${dir}`);
  failed += 1;
}
console.log(`(${files.length} projects reported, ${skipped} tests skipped)`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
