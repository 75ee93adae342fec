// npm_parse.js - the npm EDI parsers of the benchmark on one file, as a
// user of each package would stream it: counts the segments each emits.
//   node npm_parse.js node-x12|x12-parser|edifact FILE
// NODE_PATH must point at the scratch node_modules (bench.sh sets it).
'use strict';
const fs = require('fs');
const [pkg, file] = process.argv.slice(2);
let n = 0;
const done = () => console.log(`segments ${n}`);
const fail = (e) => { console.error(`${pkg}: ${e && e.message || e}`); process.exit(1); };
const input = fs.createReadStream(file, { highWaterMark: 1 << 16 });
input.on('error', fail);
if (pkg === 'node-x12') {
  const { X12Parser } = require('node-x12');
  // Not strict: its stream re-checks the ISA length at the start of
  // every chunk after an IEA, and the newline after "IEA~" (as VANs
  // write it) would make a strict parser throw.
  input.pipe(new X12Parser(false)).on('data', () => { n++; })
    .on('error', fail).on('end', done);
} else if (pkg === 'x12-parser') {
  const { X12parser } = require('x12-parser');
  input.pipe(new X12parser()).on('data', () => { n++; })
    .on('error', fail).on('end', done);
} else if (pkg === 'edifact') {
  const Parser = require('edifact/parser.js');
  const p = new Parser();
  p.encoding('UNOC'); // the interchange's syntax level (UNB); default UNOA
  p.on('opensegment', () => { n++; });
  input.setEncoding('latin1');
  input.on('data', (d) => { try { p.write(d); } catch (e) { fail(e); } });
  input.on('end', () => { try { p.end(); } catch (e) { fail(e); } done(); });
} else {
  fail('unknown package');
}
