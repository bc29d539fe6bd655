#!/usr/bin/env node
/**
 * Summarises a StrykerJS JSON report (default reports/mutation/mutation.json): the score, the
 * counts per status, and every mutant that survived or had no coverage, as Markdown lines for
 * docs/internals/mutation.md.
 */
const { readFileSync } = require('node:fs');

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(path, 'utf8'));
const counts = {};
const open = [];
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const lines = source.split('\n');
  for (const m of mutants) {
    counts[m.status] = (counts[m.status] ?? 0) + 1;
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const { line, column } = m.location.start;
    const original = lines[line - 1].trim();
    open.push(
      `- \`${file}:${line}:${column}\` ${m.mutatorName} (${m.status}): \`${original}\` → \`${String(m.replacement ?? '').replace(/\n/g, ' ')}\``,
    );
  }
}
const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
console.log(`score ${((100 * detected) / valid).toFixed(2)}% (${detected}/${valid})`);
console.log(JSON.stringify(counts));
console.log(open.join('\n'));
