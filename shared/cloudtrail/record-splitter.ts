import { IntegrityError, ValidationError } from '../core/errors';

/** Receives what the splitter finds, one element of the Records array at a time. */
export interface SplitterSink {
  /** The exact JSON text of one object element of `Records` (hand it to JSON.parse). */
  record(text: string): void;
  /** An element of `Records` that is not an object (a number, string, null, array …): counted, never parsed. */
  nonObject(): void;
}

export interface SplitterOptions {
  /** A single record larger than this is refused (a hostile file must not make one string of the whole file). */
  maxRecordBytes: number;
}

// Byte values of the JSON structural characters; UTF-8 continuation bytes are all ≥ 0x80, so scanning bytes is safe.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

const RECORDS_KEY = Buffer.from('Records');
const BOM = [0xef, 0xbb, 0xbf];

const enum State {
  /** Before the top-level value (a UTF-8 BOM and whitespace are allowed). */
  Begin,
  /** In the envelope object, after `{` or `,`: a key or `}`. */
  ObjKey,
  /** Reading an envelope key. */
  ObjKeyString,
  ObjColon,
  /** The value of an envelope key: `[` of Records, or anything else (skipped). */
  ObjValue,
  /** After an envelope value: `,` or `}`. */
  ObjNext,
  /** In the Records array, after `[` or `,`: an element or `]`. */
  ArrElem,
  /** After an element: `,` or `]`. */
  ArrNext,
  /** Inside an object element (captured). */
  Record,
  /** Inside a value that is not kept (an envelope value other than Records, a non-object element). */
  Skip,
  /** After the top-level value: whitespace only. */
  Done,
}

/**
 * Splits a CloudTrail log (`{"Records":[{…},{…}]}`, or a bare JSON array of records) into the text of each record,
 * with constant memory: it keeps only the bytes of the record being read.
 *
 * Why bytes and not a JSON tokenizer: a token-level streaming parser (stream-json and the like) builds every value
 * through callbacks and runs ~10× slower than `JSON.parse`. Here the only per-byte work is a branch on six
 * structural bytes while tracking string/escape state and nesting depth; each complete record's text then goes to
 * V8's native `JSON.parse`. That is what keeps the whole pipeline close to "gunzip + JSON.parse of the whole file"
 * while memory stays flat for a 1 GB file.
 *
 * Errors: bytes that cannot be a log (`ValidationError`, retrying cannot help) and input that ends in the middle
 * (`IntegrityError`, a truncated object). Syntax inside a record is left to JSON.parse.
 */
export class RecordSplitter {
  private state: State = State.Begin;
  /** Nesting depth inside the current captured record or skipped value. */
  private depth = 0;
  private inString = false;
  /** The previous chunk ended with a backslash inside a string: the next byte is escaped. */
  private escapePending = false;
  /** A skipped value that is a bare scalar (number, literal), ended by a delimiter rather than a bracket. */
  private skipScalar = false;
  private skipReturn: State = State.Done;
  private envelopeDepth = 0;
  private keyBytes: number[] = [];
  private keyIsRecords = false;
  /** Pieces of the current record from earlier chunks (a record can straddle chunks). */
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  private bomIndex = 0;
  private seenRecordsArray = false;
  /** Bytes consumed so far (for error offsets and progress). */
  offset = 0;

  constructor(
    private readonly sink: SplitterSink,
    private readonly options: SplitterOptions,
  ) {}

  push(chunk: Buffer): void {
    const buf = chunk;
    const n = buf.length;
    let i = 0;
    // Where the current record began in this chunk (-1: it began in an earlier chunk, or none).
    let recordStart = this.state === State.Record ? 0 : -1;
    while (i < n) {
      switch (this.state) {
        case State.Record: {
          // The hot loop: most bytes of a log are inside records. Locals, not fields, so V8 keeps them in registers.
          let depth = this.depth;
          let inString = this.inString;
          if (this.escapePending) {
            this.escapePending = false;
            i++;
          }
          let end = -1;
          while (i < n) {
            if (inString) {
              const q = buf.indexOf(QUOTE, i);
              if (q < 0) {
                let b = n - 1;
                while (b >= i && buf[b] === BACKSLASH) b--;
                if ((n - 1 - b) & 1) this.escapePending = true;
                i = n;
                break;
              }
              let b = q - 1;
              while (b >= i && buf[b] === BACKSLASH) b--;
              i = q + 1;
              if (((q - 1 - b) & 1) === 0) inString = false;
              continue;
            }
            const c = buf[i++]!;
            if (c === QUOTE) inString = true;
            else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
            else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
              if (--depth === 0) {
                end = i;
                break;
              }
            }
          }
          this.depth = depth;
          this.inString = inString;
          if (end < 0) {
            // The record continues in the next chunk.
            const start = recordStart < 0 ? 0 : recordStart;
            this.keepPart(buf.subarray(start, n));
            break;
          }
          this.emitRecord(buf, recordStart < 0 ? 0 : recordStart, end);
          recordStart = -1;
          this.state = State.ArrNext;
          break;
        }
        case State.Skip: {
          i = this.skip(buf, i, n);
          break;
        }
        case State.ArrElem: {
          const c = buf[i]!;
          if (isSpace(c)) {
            i++;
          } else if (c === OPEN_BRACE) {
            // The record loop consumes the `{` itself, so a record starting on a chunk's last byte is still kept.
            this.state = State.Record;
            this.depth = 0;
            this.inString = false;
            recordStart = i;
          } else if (c === CLOSE_BRACKET) {
            // `[]`, or a trailing comma (`[{…},]`) some hand-made files have: harmless.
            i++;
            this.closeArray();
          } else if (c === COMMA || c === COLON || c === CLOSE_BRACE) {
            this.fail(`unexpected '${String.fromCharCode(c)}' in the Records array`, i);
          } else {
            this.sink.nonObject();
            this.startSkip(c, State.ArrNext);
            i++;
          }
          break;
        }
        case State.ArrNext: {
          const c = buf[i]!;
          i++;
          if (isSpace(c)) continue;
          if (c === COMMA) this.state = State.ArrElem;
          else if (c === CLOSE_BRACKET) this.closeArray();
          else this.fail(`expected ',' or ']' after a record, found '${printable(c)}'`, i - 1);
          break;
        }
        default:
          i = this.envelope(buf, i);
      }
    }
    this.offset += n;
  }

  /** Call at the end of the input: throws if the input stopped before the log was complete. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.Begin) throw new ValidationError('empty file: no JSON value');
    const where =
      this.state === State.Record
        ? 'inside a record'
        : this.seenRecordsArray && this.envelopeDepth === 0
          ? 'inside the Records array'
          : 'before the end of the JSON document';
    throw new IntegrityError(`truncated JSON: the input ends ${where} (after ${this.offset} bytes)`);
  }

  private keepPart(part: Uint8Array): void {
    this.partsLength += part.length;
    if (this.partsLength > this.options.maxRecordBytes) {
      this.fail(`a record is larger than the limit of ${this.options.maxRecordBytes} bytes`, 0);
    }
    this.parts.push(part);
  }

  private emitRecord(buf: Buffer, start: number, end: number): void {
    let text: string;
    if (this.parts.length === 0) {
      if (end - start > this.options.maxRecordBytes) {
        this.fail(`a record is larger than the limit of ${this.options.maxRecordBytes} bytes`, start);
      }
      text = buf.toString('utf8', start, end);
    } else {
      this.keepPart(buf.subarray(start, end));
      text = Buffer.concat(this.parts, this.partsLength).toString('utf8');
      this.parts = [];
      this.partsLength = 0;
    }
    this.sink.record(text);
  }

  private closeArray(): void {
    // A bare array of records is the whole document; the Records array returns to its envelope object.
    this.state = this.envelopeDepth === 0 ? State.Done : State.ObjNext;
  }

  private startSkip(first: number, returnTo: State): void {
    this.state = State.Skip;
    this.skipReturn = returnTo;
    this.inString = first === QUOTE;
    this.depth = first === OPEN_BRACE || first === OPEN_BRACKET ? 1 : 0;
    this.skipScalar = !this.inString && this.depth === 0;
    if (this.skipScalar && (first === CLOSE_BRACE || first === CLOSE_BRACKET)) {
      this.fail(`unexpected '${String.fromCharCode(first)}'`, 0);
    }
  }

  /** Consumes a value that is not kept; returns the index after it (or n if it continues). */
  private skip(buf: Uint8Array, i: number, n: number): number {
    if (this.escapePending) {
      this.escapePending = false;
      i++;
    }
    if (this.skipScalar && !this.inString) {
      // A number or literal ends at the first delimiter, which belongs to the enclosing container.
      while (i < n) {
        const c = buf[i]!;
        if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || isSpace(c)) {
          this.state = this.skipReturn;
          return i;
        }
        i++;
      }
      return n;
    }
    let depth = this.depth;
    let inString = this.inString;
    while (i < n) {
      const c = buf[i++]!;
      if (inString) {
        if (c === QUOTE) {
          inString = false;
          if (depth === 0) {
            // A bare string value is complete.
            this.inString = false;
            this.state = this.skipReturn;
            return i;
          }
        } else if (c === BACKSLASH) {
          if (i < n) i++;
          else this.escapePending = true;
        }
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          this.depth = 0;
          this.inString = false;
          this.state = this.skipReturn;
          return i;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    return n;
  }

  /** The envelope states: few bytes, so clarity over speed. Returns the next index. */
  private envelope(buf: Uint8Array, i: number): number {
    const c = buf[i]!;
    switch (this.state) {
      case State.Begin: {
        if (this.offset + i === this.bomIndex && c === BOM[this.bomIndex]) {
          this.bomIndex++;
          return i + 1;
        }
        if (isSpace(c)) return i + 1;
        if (c === OPEN_BRACE) {
          this.envelopeDepth = 1;
          this.state = State.ObjKey;
        } else if (c === OPEN_BRACKET) {
          this.seenRecordsArray = true;
          this.state = State.ArrElem;
        } else {
          this.fail(`not a CloudTrail log: expected '{"Records":[…]}' or a JSON array, found '${printable(c)}'`, i);
        }
        return i + 1;
      }
      case State.ObjKey: {
        if (isSpace(c)) return i + 1;
        if (c === QUOTE) {
          this.keyBytes = [];
          this.state = State.ObjKeyString;
        } else if (c === CLOSE_BRACE) {
          this.finishEnvelope(i);
        } else this.fail(`expected a key in the log object, found '${printable(c)}'`, i);
        return i + 1;
      }
      case State.ObjKeyString: {
        if (this.escapePending) {
          this.escapePending = false;
          this.keyBytes.push(c);
          return i + 1;
        }
        if (c === QUOTE) {
          this.keyIsRecords =
            this.keyBytes.length === RECORDS_KEY.length && this.keyBytes.every((b, k) => b === RECORDS_KEY[k]);
          this.state = State.ObjColon;
        } else {
          if (c === BACKSLASH) this.escapePending = true;
          // Keys are only compared with "Records"; a long key is kept short, it cannot match anyway.
          if (this.keyBytes.length <= RECORDS_KEY.length) this.keyBytes.push(c);
        }
        return i + 1;
      }
      case State.ObjColon: {
        if (isSpace(c)) return i + 1;
        if (c !== COLON) this.fail(`expected ':' after a key, found '${printable(c)}'`, i);
        this.state = State.ObjValue;
        return i + 1;
      }
      case State.ObjValue: {
        if (isSpace(c)) return i + 1;
        if (this.keyIsRecords) {
          if (c !== OPEN_BRACKET) this.fail(`"Records" is not an array`, i);
          this.seenRecordsArray = true;
          this.state = State.ArrElem;
          return i + 1;
        }
        this.startSkip(c, State.ObjNext);
        return i + 1;
      }
      case State.ObjNext: {
        if (isSpace(c)) return i + 1;
        if (c === COMMA) this.state = State.ObjKey;
        else if (c === CLOSE_BRACE) this.finishEnvelope(i);
        else this.fail(`expected ',' or '}' in the log object, found '${printable(c)}'`, i);
        return i + 1;
      }
      case State.Done: {
        if (!isSpace(c)) this.fail(`unexpected '${printable(c)}' after the end of the log`, i);
        return i + 1;
      }
      default:
        throw new Error(`unreachable splitter state ${this.state}`);
    }
  }

  private finishEnvelope(i: number): void {
    if (!this.seenRecordsArray) this.fail('not a CloudTrail log: the object has no "Records" array', i);
    this.envelopeDepth = 0;
    this.state = State.Done;
  }

  private fail(message: string, index: number): never {
    throw new ValidationError(`${message} (at byte ${this.offset + index})`);
  }
}

const printable = (c: number): string => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16)}`);
