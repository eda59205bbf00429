/**
 * Writing output files safely: the text goes to a temporary file beside the target, which is
 * flushed and then renamed over it, so a failed write (full disk, read-only folder, a signal)
 * leaves the old file whole. A symbolic link is never written through (it could point anywhere);
 * overwriting an existing file is said on stderr.
 */
import * as fs from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** The file-system calls the writer makes; tests replace them to simulate a full or read-only disk. */
export interface WriteIo {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

const nodeIo: WriteIo = {
  openSync: (p, f, m) => fs.openSync(p, f, m),
  writeSync: (fd, d, o, l) => fs.writeSync(fd, d, o, l),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
};

export interface SafeWriteOptions {
  /** The flag or field the path came from, for error messages (e.g. `--output`). */
  field?: string;
  /** Told when an existing file is replaced; by default a note on stderr. */
  onOverwrite?: (file: string) => void;
  io?: Partial<WriteIo>;
}

/** Writes `text` to `file` through a temporary file and a rename; see the module comment. */
export function writeFileSafely(file: string, text: string, options: SafeWriteOptions = {}): void {
  const io = { ...nodeIo, ...options.io };
  const field = options.field;
  const path = resolve(file);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(path);
  } catch {
    existing = undefined;
  }
  if (existing?.isSymbolicLink()) {
    let to = '';
    try {
      to = ` (to ${fs.readlinkSync(path)})`;
    } catch {
      // the link's target is only for the message
    }
    throw new UserError(`is a symbolic link${to}; refusing to write through it`, file, field, 'remove the link or name the target file itself');
  }
  if (existing?.isDirectory()) throw new UserError('is a directory', file, field, 'give a file name, e.g. -o step.json');
  if (existing && !existing.isFile()) throw new UserError('is not a regular file; refusing to replace it', file, field);
  const dir = dirname(path);
  if (!fs.existsSync(dir)) throw new UserError(`directory ${dir} does not exist`, file, field);

  const tmp = resolve(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    // 'wx': create a new file, never open an existing one (or a link planted at the temp name).
    fd = io.openSync(tmp, 'wx', existing ? existing.mode & 0o777 : 0o666);
    const data = Buffer.from(text, 'utf8');
    for (let written = 0; written < data.length; ) {
      const n = io.writeSync(fd, data, written, data.length - written);
      if (!(n > 0)) throw Object.assign(new Error('short write'), { code: 'EIO' });
      written += n;
    }
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd);
      } catch {
        // already failing; the write error is the one to report
      }
    }
    try {
      io.unlinkSync(tmp);
    } catch {
      // the temporary file may never have been created
    }
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOSPC' ? 'the disk is full' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.code === 'EROFS' ? 'the file system is read-only' : err.message;
    throw new UserError(`cannot write: ${why}${existing ? '; the existing file is unchanged' : ''}`, file, field);
  }
  if (existing) (options.onOverwrite ?? ((f) => process.stderr.write(`note: overwrote ${f}\n`)))(file);
}
