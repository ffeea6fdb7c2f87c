/**
 * The base of every error annexgate throws on purpose. `code` is stable and
 * meant for programs (front-ends map it to the wire); `data` carries the
 * structured facts; `cause` chains the error that led here.
 */
export class AnnexgateError extends Error {
  readonly code: string;
  readonly data: Record<string, unknown>;

  constructor(code: string, message: string, data: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}
