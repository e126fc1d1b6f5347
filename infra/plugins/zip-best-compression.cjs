// Local osls plugin (serverless.yml `plugins`, after serverless-esbuild): rewrites each function's zip at the best
// deflate level. CommonJS because osls loads local plugins with require().
/* global require, module, Buffer */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { rename, stat } = require('node:fs/promises');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createWriteStream } = require('node:fs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const path = require('node:path');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const archiver = require('archiver');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yauzl = require('yauzl');

/**
 * serverless-esbuild zips with archiver's default, deflate level 1 (fastest): the zips were ~13 % larger than at
 * level 9 (cloudtrailIngest 375 KB vs 333 KB, bench/README.md). Lambda downloads and unpacks the zip on every cold
 * start, and the zip size counts against its limits, so the few hundred milliseconds of packaging are worth it.
 *
 * After serverless-esbuild has written the zips, each is read back (yauzl) and written again (archiver, level 9) with
 * the same entries, in the same order, with the same modes and the fixed date serverless-esbuild uses, so the zip —
 * and the code hash CloudFormation compares — stays the same from build to build for the same code.
 */
class BestCompressionZips {
  constructor(serverless, _options, { log } = {}) {
    this.serverless = serverless;
    this.log = log;
    const run = () => this.recompressAll();
    this.hooks = {
      'after:package:createDeploymentArtifacts': run,
      'after:deploy:function:packageFunction': run,
    };
  }

  async recompressAll() {
    const service = this.serverless.service;
    const artifacts = new Set();
    for (const name of service.getAllFunctions()) {
      const artifact = service.getFunction(name).package?.artifact;
      if (artifact) artifacts.add(path.resolve(this.serverless.serviceDir, artifact));
    }
    let before = 0;
    let after = 0;
    for (const file of artifacts) {
      const sizes = await recompress(file);
      before += sizes.before;
      after += sizes.after;
    }
    if (artifacts.size > 0) this.log?.verbose?.(`zips rewritten at deflate level 9: ${before} → ${after} bytes`);
  }
}

/** The entries of a zip: name, Unix mode, content. */
function readEntries(file) {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const entries = [];
      zip.on('error', reject);
      zip.on('end', () => resolve({ entries, size: zip.fileSize }));
      zip.on('entry', (entry) => {
        const mode = entry.externalFileAttributes >>> 16;
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks = [];
          stream.on('data', (c) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({ name: entry.fileName, mode: mode || 0o644, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

async function recompress(file) {
  const { entries, size } = await readEntries(file);
  const tmp = `${file}.level9`;
  await new Promise((resolve, reject) => {
    const output = createWriteStream(tmp);
    const zip = archiver.create('zip', { zlib: { level: 9 } });
    output.on('close', resolve);
    output.on('error', reject);
    zip.on('error', reject);
    zip.pipe(output);
    for (const e of entries) zip.append(e.data, { name: e.name, mode: e.mode, date: new Date(0) });
    zip.finalize();
  });
  await rename(tmp, file);
  const { size: after } = await stat(file);
  return { before: size, after };
}

module.exports = BestCompressionZips;
module.exports.recompress = recompress;
module.exports.readEntries = readEntries;
